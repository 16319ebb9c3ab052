import { once } from 'node:events';
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import ExcelJS from 'exceljs';
import { request } from 'undici';
import { type E2eStack, insertInventory, startE2eStack } from '../../test/support/e2e-stack.ts';
import { type Api, type Child, simAdmin, sleep, startCli } from '../../test/support/processes.ts';
import { testIccid } from '../../test/support/service.ts';
import { log } from './report.ts';

/**
 * The server's settings in every scenario: the production defaults for the queue (poll 250 ms, 30 s
 * leases), not the e2e tests' short ones, and quiet logs.
 */
export const benchServerEnv: Record<string, string> = {
  LOG_LEVEL: 'warn',
  JOB_LEASE_MS: '30000',
  WORKER_POLL_INTERVAL_MS: '250',
  SHUTDOWN_GRACE_MS: '2000',
};

/** `bulkchange simulate <carrier>` on a free port, killed by the cleanup. */
export async function startSimulatorProcess(carrier: string) {
  const simulator = startCli(['simulate', carrier, '--port', '0']);
  onCleanup(async () => {
    await simulator.kill('SIGKILL');
  });
  const [, url] = await simulator.waitForOutput(/listening at (http:\/\/\S+)/);
  return { simulator, url, sim: simAdmin(url) };
}

export interface BenchStackOptions {
  dialect: 'sqlite' | 'postgres';
  simulatorFaults?: Record<string, unknown>;
  /** Where the server writes a V8 CPU profile (`--cpu-prof`), when profiling. */
  profileDir?: string;
  env?: Record<string, string>;
}

export type BenchStack = E2eStack & {
  /** Stops the processes and removes the data (safe to call twice; the cleanup calls it too). */
  shutdown(): Promise<void>;
};

/** The real processes (simulator + `bulkchange serve`) through the e2e helpers. */
export async function startBenchStack(options: BenchStackOptions): Promise<BenchStack> {
  const stack = await startE2eStack({
    dialect: options.dialect,
    env: { ...benchServerEnv, ...options.env },
    simulatorFaults: options.simulatorFaults,
    serverNodeArgs: options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`] : undefined,
  });
  let closed: Promise<void> | undefined;
  const shutdown = () => {
    closed ??= (async () => {
      // A profile is written only on a clean exit: stop the server gently first.
      if (options.profileDir && stack.server?.running) await stack.server.kill('SIGTERM', 20_000);
      await stack.close();
    })();
    return closed;
  };
  onCleanup(shutdown);
  return Object.assign(stack, { shutdown });
}

/** `GET /_sim/stats` of a simulator. */
export async function simStats(simulatorUrl: string): Promise<Record<string, number>> {
  const response = await fetch(`${simulatorUrl}/_sim/stats`, { signal: AbortSignal.timeout(15_000) });
  return (await response.json()) as Record<string, number>;
}

/** ICCIDs with a valid Luhn digit, as the tests make them; `prefix` keeps scenarios apart. */
export const benchIccids = (count: number, prefix: string): string[] =>
  Array.from({ length: count }, (_, index) => testIccid(index, prefix));

/** Writes a status-update CSV (`iccid,target_status`), streamed to disk; returns its size in bytes. */
export async function writeStatusCsv(file: string, iccids: string[], targetStatus: string): Promise<number> {
  const out = createWriteStream(file);
  let bytes = 0;
  const write = async (text: string) => {
    bytes += Buffer.byteLength(text);
    if (!out.write(text)) await once(out, 'drain');
  };
  await write('iccid,target_status\n');
  const batch = 10_000;
  for (let start = 0; start < iccids.length; start += batch) {
    await write(
      iccids
        .slice(start, start + batch)
        .map((iccid) => `${iccid},${targetStatus}\n`)
        .join(''),
    );
  }
  out.end();
  await once(out, 'finish');
  return bytes;
}

/**
 * The same rows as {@link writeStatusCsv}, as a spreadsheet saves them: an .xlsx with shared strings,
 * written by exceljs's streaming writer (the bench's memory, not the server's).
 */
export async function writeStatusXlsx(file: string, iccids: string[], targetStatus: string): Promise<number> {
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: file, useSharedStrings: true });
  const sheet = workbook.addWorksheet('Lines');
  sheet.addRow(['iccid', 'target_status']).commit();
  for (const iccid of iccids) sheet.addRow([iccid, targetStatus]).commit();
  sheet.commit();
  await workbook.commit();
  return statSync(file).size;
}

export interface PostResult {
  status: number;
  body: Record<string, unknown>;
  elapsedMs: number;
}

/** Streams a CSV file (or, by `contentType`, an XLSX) to `POST /api/v1/bulk-changes`, giving up at `timeoutMs`. */
export async function postCsv(
  stack: E2eStack,
  file: string,
  query: Record<string, string>,
  timeoutMs: number,
  contentType = 'text/csv',
): Promise<PostResult> {
  const started = performance.now();
  const response = await request(`${stack.url}/api/v1/bulk-changes?${new URLSearchParams(query)}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${stack.adminKey}`, 'content-type': contentType },
    body: createReadStream(file),
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.body.text();
  const elapsedMs = performance.now() - started;
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text);
  } catch {
    body = { text };
  }
  return { status: response.statusCode, body, elapsedMs };
}

const terminal = new Set(['completed', 'completed_with_errors', 'failed', 'cancelled']);

export interface BulkView {
  id: string;
  status: string;
  counts: Record<string, number>;
  startedAt: string | null;
  completedAt: string | null;
}

export interface WaitResult {
  view: BulkView | undefined;
  final: boolean;
  elapsedMs: number;
  /** When the last view was read (ms after the wait began): a capped run's rate is measured up to it. */
  lastViewMs: number;
  /** When the server process ended before the bulk change did: its exit and the end of its output. */
  serverDied?: { exit: number | string; stderrTail: string; stdoutTail: string };
}

/**
 * Polls a bulk change until it is final, or returns the last view at the deadline, or as soon as the
 * server process (when given) has ended.
 */
/** Posts a CSV bulk change (a 201 is required) and follows it to its end or the cap, logging progress. */
export async function submitAndFollow(
  stack: BenchStack,
  file: string,
  query: Record<string, string>,
  capMs: number,
  label: string,
) {
  const post = await postCsv(stack, file, query, capMs);
  if (post.status !== 201) throw new Error(`POST answered ${post.status}: ${JSON.stringify(post.body)}`);
  const wait = await waitForFinal(
    stack.api,
    String(post.body.id),
    capMs,
    (view) => log(`${label}: ${JSON.stringify(view.counts)}`),
    stack.server,
  );
  return { post, wait };
}

/** How many lines the successful calls named exactly once. */
export function linesCalledOnce(calls: Array<{ iccids: string[] }>): number {
  const times = new Map<string, number>();
  for (const call of calls) for (const iccid of call.iccids) times.set(iccid, (times.get(iccid) ?? 0) + 1);
  return [...times.values()].filter((count) => count === 1).length;
}

export async function waitForFinal(
  api: Api,
  id: string,
  timeoutMs: number,
  onProgress?: (view: BulkView) => void,
  server?: Child,
): Promise<WaitResult> {
  const started = performance.now();
  let view: BulkView | undefined;
  let lastViewMs = 0;
  let lastReport = 0;
  let failures = 0;
  while (performance.now() - started < timeoutMs) {
    if (server && !server.running) {
      const exit = await server.exited;
      log(`the server ended (${exit}) before the bulk change did`);
      return {
        view,
        final: false,
        elapsedMs: performance.now() - started,
        lastViewMs,
        serverDied: { exit, stderrTail: server.stderr.slice(-2000), stdoutTail: server.stdout.slice(-2000) },
      };
    }
    try {
      const response = await api<BulkView>('GET', `/api/v1/bulk-changes/${id}`);
      if (response.status === 200) {
        view = response.body;
        lastViewMs = performance.now() - started;
        if (terminal.has(view.status)) return { view, final: true, elapsedMs: lastViewMs, lastViewMs };
        if (onProgress && performance.now() - lastReport > 10_000) {
          lastReport = performance.now();
          onProgress(view);
        }
      }
    } catch (error) {
      // Logged every ten failures: a server that stopped answering must not flood the output.
      if (failures++ % 10 === 0) log(`poll failed (${failures}): ${(error as Error).message}`);
    }
    // Each poll costs the server a count over every row of the bulk change: once a second keeps that
    // under 2% of its time on 100,000 rows. The end time comes from the server's completedAt, not from here.
    await sleep(1000);
  }
  return { view, final: false, elapsedMs: performance.now() - started, lastViewMs };
}

const cleanups: Array<() => Promise<void>> = [];

/** Registers work to do when the scenario ends, normally or on SIGTERM (the runner's time cap). */
export function onCleanup(cleanup: () => Promise<void>): void {
  cleanups.push(cleanup);
}

/** Runs the cleanups, newest first; each one's failure is logged, not thrown. */
export async function runCleanups(): Promise<void> {
  while (cleanups.length > 0) {
    const cleanup = cleanups.pop()!;
    try {
      await cleanup();
    } catch (error) {
      log(`cleanup failed: ${(error as Error).message}`);
    }
  }
}

/** A `bulkchange simulate jasper` process of its own, without limits, killed by the cleanup. */
export async function startSimulator(faults: Record<string, unknown> = {}) {
  const child = startCli(['simulate', 'jasper', '--port', '0']);
  onCleanup(async () => {
    await child.kill('SIGKILL');
  });
  const [, url] = await child.waitForOutput(/listening at (http:\/\/\S+)/);
  const sim = simAdmin(url);
  await sim.setFaults({ rateLimitPerSecond: null, maxConcurrent: null, ...faults });
  return { child, url, sim };
}

/** Seeds lines into a simulator through its admin API, `batch` lines per request. */
export async function seedSimulator(
  sim: ReturnType<typeof simAdmin>,
  iccids: string[],
  state: string,
  batch = 10_000,
): Promise<void> {
  for (let start = 0; start < iccids.length; start += batch) {
    await sim.seed(
      iccids.slice(start, start + batch).map((iccid) => ({
        iccid,
        state,
        ratePlan: 'IoT Basic 1MB',
        communicationPlan: 'CP_Basic_ON',
      })),
    );
  }
}

/**
 * A Jasper account created through the API, then its `count` inventory lines inserted straight into the
 * database (one transaction) while the server is stopped, and the first `simulatorLines` of them seeded
 * into the simulator. The server is left stopped: the measured process starts fresh, with nothing else
 * in its memory or CPU time.
 */
export async function createSeededAccount(
  stack: BenchStack,
  options: { limits: Record<string, unknown>; count: number; prefix: string; simulatorLines: number },
): Promise<{ accountId: string; iccids: string[]; seedMs: number }> {
  if (!stack.server?.running) await stack.startServer();
  const { accountId } = await stack.createJasperAccount({
    limits: options.limits,
    count: 0,
    prefix: options.prefix,
  });
  await stack.server!.kill('SIGTERM');
  const started = performance.now();
  const iccids = benchIccids(options.count, options.prefix);
  await insertInventory(stack.databaseLocation, {
    tenant: 'acme',
    accountId,
    iccids,
    state: 'ACTIVATION_READY',
  });
  await seedSimulator(stack.sim, iccids.slice(0, options.simulatorLines), 'ACTIVATION_READY');
  return { accountId, iccids, seedMs: Math.round(performance.now() - started) };
}
