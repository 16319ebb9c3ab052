/**
 * 3. limits: 5,000 Jasper rows with the simulator at 50 requests/s and 100 ms latency → achieved
 * requests/s ÷ 50 (target ≥ 0.98, issue 16: the 2% safety margin's own bound) and the number of 429s
 * received (target 0).
 */
import { codeRef } from '../lib/code-ref.ts';
import { type LimitsResult, measureLimits } from '../lib/limits-case.ts';
import { atLeast, exactly, type Figure, info, type ScenarioResult } from '../lib/report.ts';
import type { ScenarioContext } from '../lib/run-scenario.ts';
import { benchScale, scaled, secondsFromEnv } from '../lib/scale.ts';

export const limitsSetup = {
  rate: 50,
  latencyMs: 100,
  /** The account's `maxConcurrent`: 50/s × 0.1 s = 5 calls in flight at the limit, with room to spare. */
  accountMaxConcurrent: 8,
};

export async function run(context: ScenarioContext): Promise<ScenarioResult> {
  const started = performance.now();
  const rows = scaled(5_000);
  const limits = await measureLimits({
    dialect: 'sqlite',
    rows,
    ...limitsSetup,
    capS: secondsFromEnv('BENCH_LIMITS_CAP_S', 180),
    profileDir: context.profileDir,
  });
  return {
    scenario: 'limits',
    title: `${rows.toLocaleString('en-US')} Jasper rows, simulator at ${limitsSetup.rate}/s with ${limitsSetup.latencyMs} ms latency`,
    status: limits.final ? 'completed' : 'capped',
    ranAt: new Date().toISOString(),
    durationMs: Math.round(performance.now() - started),
    figures: limitsFigures(limits),
    details: { rows, scale: benchScale, limits },
    notes: limits.note ? [limits.note] : [],
  };
}

export function limitsFigures(limits: LimitsResult): Figure[] {
  const figures = [
    atLeast(
      {
        name: 'achieved rate ÷ limit',
        value: limits.achievedRequestsPerSecond,
        unit: 'req/s',
        bound: { name: 'simulator limit', value: limits.rate, unit: 'req/s' },
        ratio: limits.ratio,
      },
      0.98,
      'ratio ≥ 0.98',
    ),
    exactly({ name: '429s received', value: limits.received429, unit: '' }, 0, '= 0'),
    info({ name: 'rows/s end to end', value: limits.endToEndRowsPerSecond, unit: 'rows/s' }),
  ];
  const [rate, tooMany] = figures;
  if (rate.verdict === 'missed') rate.limitedBy = rateLimitedBy(limits);
  if (tooMany.verdict === 'missed') {
    tooMany.limitedBy = `the server sent more than the simulator allows (maxObservedRequestsPerSecond ${limits.simulator.maxObservedRequestsPerSecond}); see ${codeRef('src/carriers/limits/limiter.ts', '#pump(): void')}`;
  }
  return figures;
}

/** Where the rate went, from the simulator's call log of this run. */
function rateLimitedBy(limits: LimitsResult): string {
  const perRequest = limits.lostMs.elsewhere / Math.max(1, limits.requests - 1);
  const chunk = Math.ceil(limits.rate * 3);
  const pauses =
    limits.pauses.count > 0
      ? `${limits.pauses.count} pauses between chunks (median ${limits.pauses.medianMs} ms; ${limits.lostMs.inPauses} ms lost in all): ` +
        `a chunk is ${chunk} rows (3 s of calls, ${codeRef('src/carriers/per-line.ts', 'export const perLineChunk')}) and the next one is claimed only after ` +
        `the last call of the previous one returned (${limits.latencyMs} ms latency) and its rows were committed (${codeRef('src/engine/engine.ts', 'async #runDueChunk')}); and `
      : '';
  return (
    `${pauses}${limits.lostMs.elsewhere} ms (${perRequest.toFixed(2)} ms per request) of spacing beyond the limiter's ${limits.intervalMs} ms target: ` +
    `requests that left more than the lateness tolerance after they were due push the next one back ` +
    `(${codeRef('src/carriers/limits/call-limiter.ts', 'export const nextDueAt')}, ADR 0060), ` +
    `on top of the 2% safety margin (${codeRef('src/carriers/limits/call-limiter.ts', 'export const DEFAULT_SAFETY_MARGIN')}; at best 0.980 of the limit)`
  );
}
