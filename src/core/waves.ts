import { z } from 'zod';

/**
 * Canary waves (docs/guardrails.md): a bulk change may send its rows in waves, each reaching further
 * into the file than the one before: `{lines: 10}` (the first 10 rows), `{percent: 10}` (10 % of the
 * rows). Counts are cumulative, in row order; rows past the last wave form one more, the rest. After
 * each wave but the last, a failure rate above `haltOnFailureRate` pauses the change (`canary_halt`).
 */
export const waveSchema = z.union([
  z.strictObject({ lines: z.number().int().min(1).max(10_000_000) }),
  z.strictObject({ percent: z.number().gt(0).max(100) }),
]);
export type Wave = z.infer<typeof waveSchema>;

export const DEFAULT_HALT_ON_FAILURE_RATE = 0.2;

export const wavePlanSchema = z.strictObject({
  waves: z.array(waveSchema).min(1).max(20),
  /** Failed ÷ finished (succeeded + failed) rows of a wave above which the change halts; 0 halts on any failure. */
  haltOnFailureRate: z.number().min(0).max(1).default(DEFAULT_HALT_ON_FAILURE_RATE),
});
export type WavePlan = z.infer<typeof wavePlanSchema>;

/** How a finished wave went. */
export interface WaveResult {
  /** 1-based. */
  wave: number;
  rows: number;
  succeeded: number;
  failed: number;
  cancelled: number;
  failureRate: number;
  /** Its failure rate was above the plan's threshold: the change paused after it. */
  halted: boolean;
}

/** Where a bulk change with waves is. */
export interface WaveProgress {
  plan: WavePlan;
  /** The wave running now, 0-based; `plan.waves.length` is the rest after the declared waves. */
  current: number;
  /** The current wave's rows: row numbers above `afterRow`, up to `toRow` (null: every row, the last wave). */
  afterRow: number;
  toRow: number | null;
  /** Rows reached by the end of the current wave (a count, in row order). */
  reached: number;
  results: WaveResult[];
}

/** Rows reached by the end of wave `index` of `total`; past the declared waves, all of them. */
export function waveEnd(plan: WavePlan, index: number, total: number): number {
  if (index >= plan.waves.length) return total;
  const wave = plan.waves[index];
  const rows = 'lines' in wave ? wave.lines : Math.ceil((total * wave.percent) / 100);
  return Math.min(total, Math.max(1, rows));
}

/** The first wave after `afterIndex` that reaches further than `reached` rows: its index and end. */
export function nextWave(
  plan: WavePlan,
  afterIndex: number,
  reached: number,
  total: number,
): { index: number; end: number } {
  for (let index = afterIndex + 1; index < plan.waves.length; index++) {
    const end = waveEnd(plan, index, total);
    if (end > reached) return { index, end };
  }
  return { index: plan.waves.length, end: total };
}

/** Failed ÷ finished rows; cancelled rows are neither. */
export const failureRate = (figures: { succeeded: number; failed: number }): number => {
  const finished = figures.succeeded + figures.failed;
  return finished === 0 ? 0 : figures.failed / finished;
};
