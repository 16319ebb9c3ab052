/**
 * The shared limiter's own cost (ADR 0014, 0060, 0061): `--workers` registries of shared guards, each on
 * its own connection pool as separate worker processes would be, send `--calls` calls through one
 * account's limiter, each call taking `--latency` ms. No HTTP: what is measured is the limiter and its
 * round trips to PostgreSQL.
 *
 *   TEST_DATABASE_URL=postgres://… node bench/lib/shared-limiter-case.ts [--root DIR] [--rate 50|none]
 *     [--concurrency 10] [--calls 600] [--latency 150] [--workers 2]
 *
 * `--root` measures another checkout of the code (e.g. the commit before a change, extracted with
 * `git archive HEAD~1 src test | tar -x -C DIR`), whose migrations, guards and test support it loads.
 */
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    root: { type: 'string', default: path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..') },
    rate: { type: 'string', default: '50' },
    concurrency: { type: 'string', default: '10' },
    calls: { type: 'string', default: '600' },
    latency: { type: 'string', default: '150' },
    workers: { type: 'string', default: '2' },
  },
});
if (!process.env.TEST_DATABASE_URL) throw new Error('TEST_DATABASE_URL must name a PostgreSQL database');
const root = path.resolve(values.root);
const requestsPerSecond = values.rate === 'none' ? null : Number(values.rate);
const limits = { requestsPerSecond, maxConcurrent: Number(values.concurrency) };
const calls = Number(values.calls);
const latencyMs = Number(values.latency);
const workerCount = Number(values.workers);

const { createTestDatabase } = await import(path.join(root, 'test/support/databases.ts'));
const { openPostgres } = await import(path.join(root, 'src/db/database.ts'));
const { SharedGuards } = await import(path.join(root, 'src/carriers/limits/shared-guards.ts'));

const database = await createTestDatabase('postgres');
const url = new URL(process.env.TEST_DATABASE_URL);
url.pathname = database.location.slice(database.location.lastIndexOf('/'));
const handles = [database, ...Array.from({ length: workerCount - 1 }, () => openPostgres(url.toString(), 5))];
const bookkeepingErrors: string[] = [];
const sealer = { seal: (text: string) => text, open: (text: string) => text };
const guards = handles.map(
  (handle, index) =>
    new SharedGuards({
      db: handle.db,
      notifications: handle.notifications,
      holder: `bench-worker-${index}`,
      sealer,
      onError: (error: unknown) => {
        bookkeepingErrors.push(String(error));
      },
    }),
);

const left: number[] = [];
let inFlight = 0;
let peak = 0;
const started = performance.now();
await Promise.all(
  Array.from({ length: calls }, (_, index) =>
    guards[index % guards.length]
      .limiter('bench-account', limits)
      .schedule(async (moment: { sending?: () => boolean; sent?: () => void } | undefined) => {
        moment?.sending?.();
        left.push(performance.now());
        moment?.sent?.();
        peak = Math.max(peak, ++inFlight);
        await delay(latencyMs);
        inFlight--;
      }),
  ),
);
const elapsedMs = performance.now() - started;
// The last calls' slots are handed back after they settle: let that finish before the pools close.
await delay(1_000);
for (const registry of guards) registry.close();
for (const handle of handles.slice(1).reverse()) await handle.close();
await database.drop();

left.sort((a, b) => a - b);
const gaps = left.slice(1).map((at, index) => at - left[index]);
const achieved = ((calls - 1) / (left.at(-1)! - left[0])) * 1000;
process.stdout.write(
  `${JSON.stringify({
    root,
    limits,
    calls,
    latencyMs,
    workers: workerCount,
    elapsedMs: Math.round(elapsedMs),
    callsPerSecond: Math.round(achieved * 10) / 10,
    shareOfLimit:
      requestsPerSecond === null ? null : Math.round((achieved / requestsPerSecond) * 1000) / 1000,
    peakInFlight: peak,
    smallestGapMs: Math.round(Math.min(...gaps) * 100) / 100,
    bookkeepingErrors,
  })}\n`,
);
