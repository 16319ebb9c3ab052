/**
 * `BENCH_SCALE` (0 < s ≤ 1, default 1) shrinks every row count, for a quick check of the harness
 * itself. Results of a scaled run say so; only `BENCH_SCALE=1` numbers belong in the docs.
 */
export const benchScale = (() => {
  const raw = Number(process.env.BENCH_SCALE ?? '1');
  return raw > 0 && raw <= 1 ? raw : 1;
})();

export const scaled = (rows: number): number => Math.max(100, Math.round(rows * benchScale));

/** Seconds from the environment (e.g. `BENCH_INGEST_CAP_S`), or the default. */
export const secondsFromEnv = (name: string, fallback: number): number => {
  const value = Number(process.env[name]);
  return value > 0 ? value : fallback;
};
