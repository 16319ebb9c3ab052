/**
 * The engine measurement (scenario 2, and scenario 6 on PostgreSQL) and its two bounds, each in fresh
 * processes: the HTTP ceiling (bare client → simulator) and the original-style baseline.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runBenchChild } from './children.ts';
import { ProcessSampler } from './proc.ts';
import { log, round } from './report.ts';
import {
  benchIccids,
  createSeededAccount,
  onCleanup,
  postCsv,
  seedSimulator,
  simStats,
  startBenchStack,
  startSimulator,
  waitForFinal,
  writeStatusCsv,
} from './stack.ts';

export interface CeilingResult {
  requests: number;
  concurrency: number;
  elapsedMs: number;
  requestsPerSecond: number;
  statuses: Record<string, number>;
  cpuMs: number;
  simulatorCpuMs: number;
}

/** The simulator alone, serving `rows` status updates from a bare client (fresh simulator + client). */
export async function measureCeiling(rows: number, concurrency: number): Promise<CeilingResult> {
  const simulator = await startSimulator();
  const prefix = '8901555';
  await seedSimulator(simulator.sim, benchIccids(rows, prefix), 'ACTIVATION_READY');
  const sampler = new ProcessSampler(simulator.child.process.pid!, 500);
  const client = await runBenchChild<Omit<CeilingResult, 'simulatorCpuMs'>>(
    'http-ceiling.ts',
    [simulator.url, String(rows), String(concurrency), prefix],
    180_000,
  );
  const simulatorCpuMs = Math.round(sampler.cpuMsSinceStart());
  sampler.stop();
  await simulator.child.kill('SIGKILL');
  log(`ceiling: ${client.result.requestsPerSecond} requests/s (${concurrency} at a time)`);
  return { ...client.result, simulatorCpuMs };
}

export interface BaselineResult {
  rows: number;
  processed: number;
  pages: number;
  elapsedMs: number;
  rowsPerSecond: number;
  statuses: Record<string, number>;
  cpuMs: number;
}

/** Original-style processing (pages of 100, one request at a time), capped at `capS` seconds. */
export async function measureBaseline(rows: number, capS: number): Promise<BaselineResult> {
  const simulator = await startSimulator();
  const prefix = '8901444';
  await seedSimulator(simulator.sim, benchIccids(rows, prefix), 'ACTIVATION_READY');
  const dir = mkdtempSync(path.join(tmpdir(), 'bulkchange-bench-baseline-'));
  onCleanup(async () => rmSync(dir, { recursive: true, force: true }));
  const baseline = await runBenchChild<BaselineResult>(
    'original-baseline.ts',
    [dir, simulator.url, String(rows), String(capS), prefix],
    (capS + 120) * 1000,
  );
  await simulator.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
  log(`baseline: ${baseline.result.rowsPerSecond} rows/s (${baseline.result.processed} rows)`);
  return baseline.result;
}

export interface EngineResult {
  dialect: 'sqlite' | 'postgres';
  rows: number;
  concurrency: number;
  final: boolean;
  status: string | null;
  counts: Record<string, number> | null;
  timeTo201Ms: number | null;
  endToEndMs: number | null;
  /** End to end; when capped, over the rows done within the cap (`partial`). */
  rowsPerSecond: number | null;
  partial: boolean;
  processingRowsPerSecond: number | null;
  serverCpuMs: number;
  serverCpuMsPerRow: number | null;
  /** Server CPU time ÷ wall time: 1.0 = one core busy all the time. */
  serverCoresBusy: number | null;
  simulatorCpuMs: number;
  simulatorCoresBusy: number | null;
  serverPeakRssMb: number | null;
  simulator: Record<string, number>;
  seedMs: number;
  serverDied?: { exit: number | string; stderrTail: string; stdoutTail: string };
  note?: string;
}

const lastLine = (text: string) => text.trim().split('\n').at(-1)?.slice(0, 500) ?? '';

/**
 * `rows` Jasper status updates through the real server, against a simulator with no latency and no
 * limit; the account allows `concurrency` requests at once and no rate limit.
 */
export async function measureEngine(options: {
  dialect: 'sqlite' | 'postgres';
  rows: number;
  concurrency: number;
  capS: number;
  profileDir?: string;
}): Promise<EngineResult> {
  const { rows, concurrency } = options;
  const stack = await startBenchStack({ dialect: options.dialect, profileDir: options.profileDir });
  const { accountId, iccids, seedMs } = await createSeededAccount(stack, {
    limits: { requestsPerSecond: null, maxConcurrent: concurrency },
    count: rows,
    prefix: '8901666',
    simulatorLines: rows,
  });
  await stack.startServer();
  const dir = mkdtempSync(path.join(tmpdir(), 'bulkchange-bench-engine-'));
  onCleanup(async () => rmSync(dir, { recursive: true, force: true }));
  const csv = path.join(dir, 'engine.csv');
  await writeStatusCsv(csv, iccids, 'active');
  log(`engine (${options.dialect}): ${rows} lines seeded in ${seedMs} ms; submitting`);

  const server = new ProcessSampler(stack.server!.process.pid!, 500);
  const simulator = new ProcessSampler(stack.simulator.process.pid!, 500);
  const submittedAt = Date.now();
  const submitted = performance.now();
  const post = await postCsv(
    stack,
    csv,
    { carrierAccountId: accountId, changeType: 'status_update' },
    options.capS * 1000,
  );
  if (post.status !== 201) throw new Error(`POST answered ${post.status}: ${JSON.stringify(post.body)}`);
  const id = String(post.body.id);
  const remainingMs = Math.max(1_000, options.capS * 1000 - (performance.now() - submitted));
  const wait = await waitForFinal(
    stack.api,
    id,
    remainingMs,
    (view) => log(`engine (${options.dialect}): ${JSON.stringify(view.counts)}`),
    stack.server,
  );
  const wallMs = performance.now() - submitted;
  const serverCpuMs = server.cpuMsSinceStart();
  const simulatorCpuMs = simulator.cpuMsSinceStart();
  const serverMemory = server.stop();
  simulator.stop();
  const stats = await simStats(stack.simulatorUrl);
  await stack.shutdown();
  const completedAt = wait.view?.completedAt ? Date.parse(wait.view.completedAt) : null;
  const endToEndMs = wait.final && completedAt !== null ? completedAt - submittedAt : null;
  const done = wait.view ? (wait.view.counts.succeeded ?? 0) + (wait.view.counts.failed ?? 0) : 0;
  const result: EngineResult = {
    dialect: options.dialect,
    rows,
    concurrency,
    final: wait.final,
    status: wait.view?.status ?? null,
    counts: wait.view?.counts ?? null,
    timeTo201Ms: Math.round(post.elapsedMs),
    endToEndMs,
    // Capped: the rate of the rows done up to the last progress read, from the submission.
    rowsPerSecond: endToEndMs
      ? round((rows / endToEndMs) * 1000, 0)
      : done > 0
        ? round((done / (post.elapsedMs + wait.lastViewMs)) * 1000, 0)
        : null,
    partial: !wait.final,
    processingRowsPerSecond: endToEndMs
      ? round((rows / (endToEndMs - post.elapsedMs)) * 1000, 0)
      : round((done / (wallMs - post.elapsedMs)) * 1000, 0),
    serverCpuMs: Math.round(serverCpuMs),
    serverCpuMsPerRow: done > 0 ? round(serverCpuMs / done, 3) : null,
    serverCoresBusy: round(serverCpuMs / wallMs, 2),
    simulatorCpuMs: Math.round(simulatorCpuMs),
    simulatorCoresBusy: round(simulatorCpuMs / wallMs, 2),
    serverPeakRssMb: round(serverMemory.hwmMb, 0),
    simulator: stats,
    seedMs,
    ...(wait.serverDied ? { serverDied: wait.serverDied } : {}),
    ...(wait.final
      ? {}
      : {
          note: wait.serverDied
            ? `${options.dialect}: the server process ended (${wait.serverDied.exit}) after ${done} of ${rows} rows; rows/s is measured over those rows. Its last output: ${lastLine(wait.serverDied.stderrTail || wait.serverDied.stdoutTail)}`
            : `${options.dialect}: not final at the ${options.capS} s cap: ${done} of ${rows} rows done (${wait.view?.status}); rows/s is measured over those rows`,
        }),
  };
  log(`engine (${options.dialect}): ${JSON.stringify(result)}`);
  return result;
}
