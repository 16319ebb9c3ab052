/**
 * Runs `fn` once `performance.now()` has reached `at`. Node's timers count whole milliseconds on a
 * clock that lags a little, so a timer alone fires up to a millisecond early or late; the caller
 * checks the clock again either way. With `precise`, the last millisecond is waited for in turns of
 * the event loop (`setImmediate`) instead: a request due every 20 ms then loses ~0.1 ms rather than
 * ~1 ms to rounding (5% of a 50/s limit), at the cost of a little CPU, so only fast limits ask for it.
 * Returns the function that cancels.
 */
export function atMoment(at: number, fn: () => void, precise: boolean): () => void {
  let timer: NodeJS.Timeout | undefined;
  let immediate: NodeJS.Immediate | undefined;
  let cancelled = false;
  const step = () => {
    if (cancelled) return;
    const wait = at - performance.now();
    if (wait <= 0) fn();
    else if (!precise) timer = setTimeout(step, Math.ceil(wait));
    else if (wait >= 2) timer = setTimeout(step, Math.floor(wait) - 1);
    else immediate = setImmediate(step);
  };
  step();
  return () => {
    cancelled = true;
    clearTimeout(timer);
    if (immediate) clearImmediate(immediate);
  };
}

/** Spacing below which a limiter waits precisely (more than 10 requests a second). */
export const PRECISE_BELOW_MS = 100;

/** Resolves once `performance.now()` has reached `at` (see {@link atMoment}). */
export const untilMoment = (at: number, precise: boolean): Promise<void> =>
  new Promise((resolve) => atMoment(at, resolve, precise));
