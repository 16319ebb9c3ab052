/**
 * How long a row waits after a transient failure: exponential in its attempts, capped at 5 minutes, half
 * of it fixed and half drawn at random (so rows that failed together do not come back together).
 */
export function rowRetryDelay(attempts: number, random = Math.random): number {
  const ceiling = Math.min(300_000, 1_000 * 2 ** Math.max(0, attempts - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
