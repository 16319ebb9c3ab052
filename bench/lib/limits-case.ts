/**
 * The limits measurement (scenario 3, and scenario 6 on PostgreSQL): Jasper rows against a simulator
 * that allows `rate` requests/s and answers after `latencyMs`; the account is configured with the same
 * rate. Achieved rate and pauses come from the simulator's call log; 429s from its stats.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { SimCall } from '../../test/support/processes.ts';
import { ProcessSampler } from './proc.ts';
import { log, round } from './report.ts';
import {
  createSeededAccount,
  onCleanup,
  postCsv,
  simStats,
  startBenchStack,
  waitForFinal,
  writeStatusCsv,
} from './stack.ts';

export interface LimitsResult {
  dialect: 'sqlite' | 'postgres';
  rows: number;
  rate: number;
  latencyMs: number;
  accountMaxConcurrent: number;
  final: boolean;
  status: string | null;
  counts: Record<string, number> | null;
  /** Accepted carrier requests ÷ the span from the first to the last one. */
  achievedRequestsPerSecond: number | null;
  ratio: number | null;
  received429: number;
  endToEndMs: number | null;
  endToEndRowsPerSecond: number | null;
  requests: number;
  /** Spacing the limiter aims for between two request starts. */
  intervalMs: number;
  /** Gaps between consecutive request starts longer than 3 intervals: where the rate was lost. */
  pauses: { count: number; totalMs: number; medianMs: number | null; maxMs: number | null };
  /** Time lost against the ideal spacing, split between those pauses and the small jitter of the rest. */
  lostMs: { inPauses: number; elsewhere: number };
  serverCoresBusy: number | null;
  simulator: Record<string, number>;
  serverDied?: { exit: number | string; stderrTail: string; stdoutTail: string };
  note?: string;
}

export async function measureLimits(options: {
  dialect: 'sqlite' | 'postgres';
  rows: number;
  rate: number;
  latencyMs: number;
  accountMaxConcurrent: number;
  capS: number;
  profileDir?: string;
}): Promise<LimitsResult> {
  const { rows, rate, latencyMs } = options;
  const stack = await startBenchStack({
    dialect: options.dialect,
    simulatorFaults: { rateLimitPerSecond: rate, latencyMs },
    profileDir: options.profileDir,
  });
  const { accountId, iccids } = await createSeededAccount(stack, {
    limits: { requestsPerSecond: rate, maxConcurrent: options.accountMaxConcurrent },
    count: rows,
    prefix: '8901333',
    simulatorLines: rows,
  });
  await stack.startServer();
  const dir = mkdtempSync(path.join(tmpdir(), 'bulkchange-bench-limits-'));
  onCleanup(async () => rmSync(dir, { recursive: true, force: true }));
  const csv = path.join(dir, 'limits.csv');
  await writeStatusCsv(csv, iccids, 'active');
  log(`limits (${options.dialect}): ${rows} rows at ${rate}/s with ${latencyMs} ms latency`);

  const server = new ProcessSampler(stack.server!.process.pid!, 1000);
  const submittedAt = Date.now();
  const submitted = performance.now();
  const post = await postCsv(
    stack,
    csv,
    { carrierAccountId: accountId, changeType: 'status_update' },
    60_000,
  );
  if (post.status !== 201) throw new Error(`POST answered ${post.status}: ${JSON.stringify(post.body)}`);
  const wait = await waitForFinal(
    stack.api,
    String(post.body.id),
    Math.max(1_000, options.capS * 1000 - (performance.now() - submitted)),
    (view) => log(`limits (${options.dialect}): ${JSON.stringify(view.counts)}`),
    stack.server,
  );
  const serverCoresBusy = round(server.cpuMsSinceStart() / (performance.now() - submitted), 2);
  server.stop();
  const calls = await stack.sim.calls('put_device');
  const stats = await simStats(stack.simulatorUrl);
  await stack.shutdown();

  const accepted = calls
    .filter((call: SimCall) => call.status !== 429)
    .map((call: SimCall) => Date.parse(call.at))
    .sort((a, b) => a - b);
  const spanMs = accepted.length > 1 ? accepted.at(-1)! - accepted[0] : null;
  const achieved = spanMs ? ((accepted.length - 1) / spanMs) * 1000 : null;
  const intervalMs = (1000 / rate) * 1.02;
  const gaps = accepted.slice(1).map((at, index) => at - accepted[index]);
  const long = gaps.filter((gap) => gap > 3 * intervalMs).sort((a, b) => a - b);
  const lostInPauses = long.reduce((sum, gap) => sum + gap - intervalMs, 0);
  const lostTotal = spanMs === null ? 0 : spanMs - (accepted.length - 1) * intervalMs;
  const completedAt = wait.view?.completedAt ? Date.parse(wait.view.completedAt) : null;
  const endToEndMs = wait.final && completedAt !== null ? completedAt - submittedAt : null;
  const done = wait.view ? (wait.view.counts.succeeded ?? 0) + (wait.view.counts.failed ?? 0) : 0;
  const result: LimitsResult = {
    dialect: options.dialect,
    rows,
    rate,
    latencyMs,
    accountMaxConcurrent: options.accountMaxConcurrent,
    final: wait.final,
    status: wait.view?.status ?? null,
    counts: wait.view?.counts ?? null,
    achievedRequestsPerSecond: round(achieved, 2),
    ratio: achieved === null ? null : round(achieved / rate, 3),
    received429: stats.rateLimited ?? 0,
    endToEndMs,
    endToEndRowsPerSecond: endToEndMs ? round((rows / endToEndMs) * 1000, 2) : null,
    requests: calls.length,
    intervalMs: round(intervalMs, 1)!,
    pauses: {
      count: long.length,
      totalMs: Math.round(long.reduce((sum, gap) => sum + gap, 0)),
      medianMs: long.length ? long[Math.floor(long.length / 2)] : null,
      maxMs: long.length ? long.at(-1)! : null,
    },
    lostMs: { inPauses: Math.round(lostInPauses), elsewhere: Math.round(lostTotal - lostInPauses) },
    serverCoresBusy,
    simulator: stats,
    ...(wait.serverDied ? { serverDied: wait.serverDied } : {}),
    ...(wait.final
      ? {}
      : {
          note: wait.serverDied
            ? `${options.dialect}: the server process ended (${wait.serverDied.exit}) after ${done} of ${rows} rows`
            : `${options.dialect}: not final at the ${options.capS} s cap: ${done} of ${rows} rows done`,
        }),
  };
  log(`limits (${options.dialect}): ${JSON.stringify(result)}`);
  return result;
}
