/**
 * 7. scaleout: the deployment split by role on PostgreSQL (`DATABASE_URL`), one API process and 1, 2
 * or 4 worker processes, each a real process. Latency-bound Jasper accounts (simulator at 150 ms per
 * call, 50 requests/s and 10 at once, the account set to the same), each on a simulator of its own:
 * (a) 8 accounts with one change each, with 1, 2 and 4 workers → aggregate rows/s, and each account's
 * share of its limit; (b) one change on one account with 2 and 4 workers → its share of the limit.
 * Over every run: requests in a second and in flight beyond an account's limit (target 0), and 429s.
 */
import { codeRef } from '../lib/code-ref.ts';
import {
  atLeast,
  exactly,
  type Figure,
  info,
  log,
  ratioOf,
  type ScenarioResult,
  skippedWithout,
} from '../lib/report.ts';
import type { ScenarioContext } from '../lib/run-scenario.ts';
import { benchScale, scaled, secondsFromEnv } from '../lib/scale.ts';
import { measureScaleOut, type ScaleOutResult } from '../lib/scaleout-case.ts';

const setup = { rate: 50, maxConcurrent: 10, latencyMs: 150 };
const manyAccounts = 8;
const workerCounts = [1, 2, 4];
const oneAccountWorkerCounts = [2, 4];

export async function run(_context: ScenarioContext): Promise<ScenarioResult> {
  const title = 'one API process and 1, 2, 4 worker processes on PostgreSQL, latency-bound Jasper accounts';
  const url = process.env.DATABASE_URL;
  if (!url) return skippedWithout('scaleout', title, 'DATABASE_URL is not set');
  // The e2e helpers create (and drop) a fresh database on the server named by TEST_DATABASE_URL.
  process.env.TEST_DATABASE_URL = url;
  const started = performance.now();
  // 20 s of calls per account at its limit.
  const rowsPerAccount = scaled(1_000);
  const capS = secondsFromEnv('BENCH_SCALEOUT_CAP_S', 90);
  const many: ScaleOutResult[] = [];
  for (const workers of workerCounts) {
    many.push(await measureScaleOut({ ...setup, workers, accounts: manyAccounts, rowsPerAccount, capS }));
  }
  const one: ScaleOutResult[] = [];
  for (const workers of oneAccountWorkerCounts) {
    one.push(await measureScaleOut({ ...setup, workers, accounts: 1, rowsPerAccount, capS }));
  }
  const notes = [...many, ...one].flatMap((result) => (result.note ? [result.note] : []));
  log(`scaleout: done`);
  return {
    scenario: 'scaleout',
    title,
    status: notes.length === 0 ? 'completed' : 'capped',
    ranAt: new Date().toISOString(),
    durationMs: Math.round(performance.now() - started),
    figures: scaleOutFigures(many, one),
    details: { scale: benchScale, setup, rowsPerAccount, many, one },
    notes,
  };
}

function scaleOutFigures(many: ScaleOutResult[], one: ScaleOutResult[]): Figure[] {
  const figures: Figure[] = [];
  const workersLabel = (workers: number) => `${workers} worker${workers > 1 ? 's' : ''}`;
  const shareFigure = (result: ScaleOutResult, name: string) => {
    const figure = atLeast(
      {
        name,
        value: result.lowestShare === null ? null : result.lowestShare * result.rate,
        unit: 'req/s',
        bound: { name: "an account's limit", value: result.rate, unit: 'req/s' },
        ratio: result.lowestShare,
      },
      0.95,
      'ratio ≥ 0.95',
    );
    if (figure.verdict === 'missed') figure.limitedBy = shareLimitedBy(result);
    return figure;
  };
  for (const result of many) {
    const label = `${result.accounts} accounts, ${workersLabel(result.workers)}`;
    figures.push(
      info({
        name: `${label}: rows/s`,
        value: result.rowsPerSecond,
        unit: 'rows/s',
        bound: { name: "the accounts' limits added up", value: result.combinedLimit, unit: 'req/s' },
        ratio: ratioOf(result.rowsPerSecond, result.combinedLimit),
      }),
      shareFigure(result, `${label}: lowest share of an account's limit`),
    );
  }
  const [single, , quad] = many;
  if (single && quad) {
    figures.push(
      info({
        name: `${manyAccounts} accounts: rows/s with 4 workers ÷ with 1`,
        value: quad.rowsPerSecond,
        unit: 'rows/s',
        bound: { name: '1 worker', value: single.rowsPerSecond, unit: 'rows/s' },
        ratio: ratioOf(quad.rowsPerSecond, single.rowsPerSecond),
      }),
    );
  }
  for (const result of one) {
    figures.push(
      shareFigure(result, `one change on one account, ${workersLabel(result.workers)}: share of its limit`),
    );
  }
  const all = [...many, ...one];
  const worst = (pick: (result: ScaleOutResult) => number) => Math.max(...all.map(pick));
  const overshoot = exactly(
    {
      name: "requests in a second beyond an account's limit (worst, every run)",
      value: worst((r) => r.overshoot),
      unit: 'req',
    },
    0,
  );
  const inFlight = exactly(
    {
      name: "requests in flight beyond an account's limit (worst, every run)",
      value: worst((r) => r.concurrencyOvershoot),
      unit: 'req',
    },
    0,
  );
  const tooMany = exactly(
    { name: '429s received (every run)', value: worst((r) => r.received429), unit: '' },
    0,
  );
  for (const figure of [overshoot, inFlight, tooMany]) {
    if (figure.verdict === 'missed') {
      figure.limitedBy = `the workers together sent more than an account allows: see the shared limiter, ${codeRef('src/carriers/limits/shared-limiter.ts', 'export class')}, and details.many[].perAccount[].simulator`;
    }
  }
  figures.push(overshoot, inFlight, tooMany);
  return figures;
}

/** Where an account's rate went: the CPU of a shared two-core machine, or the engine's one job per account. */
function shareLimitedBy(result: ScaleOutResult): string {
  const { machine, machineCores, workers, api } = result.coresBusy;
  const cpu =
    `the machine's ${machineCores} cores were ${machine} busy (the workers ${workers}, the API ${api}, the rest ` +
    `PostgreSQL, the ${result.accounts} simulator(s), the harness and other users of the machine)`;
  const waits =
    `a \`select 1\` took ${result.databaseRoundTripMs.median} ms (median; p90 ${result.databaseRoundTripMs.p90} ms), ` +
    `and calls waited ${result.limiterWait.meanMs} ms on average for their account's shared limiter, which takes ` +
    `each turn in a round trip to PostgreSQL (${codeRef('src/carriers/limits/shared-limiter.ts', 'result = await takeLimiterTurn')})`;
  if (machine !== null && machine >= 0.85 * machineCores) {
    return `CPU of the machine: ${cpu}; the workers themselves were mostly idle, waiting: ${waits}`;
  }
  return (
    `not the CPU (${cpu}): an account allowed 200 calls/s or fewer gets one job at a time ` +
    `(${codeRef('src/engine/engine.ts', 'const fast = requestsPerSecond')}), whatever the number of workers; each job yields after its ` +
    `slice (ENGINE_SLICE_MS) and the next one is claimed by whichever worker wakes first, and the shared limiter ` +
    `(${codeRef('src/carriers/limits/shared-limiter.ts', 'export class')}) takes its turns through PostgreSQL: ${waits}`
  );
}
