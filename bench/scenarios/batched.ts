/**
 * 4. batched: ThingSpace and Telegence activations of 20,000 lines → rows/s and requests used ÷ the
 * minimum the batch limits allow (ThingSpace ≤10,000 devices per request, Telegence ≤200 activations per
 * request). A carrier this build does not have is reported "not available: carrier not in this build yet".
 *
 * Telegence: bench/lib/telegence-case.ts.
 *
 * ThingSpace: the real server and `bulkchange simulate thingspace` (its default faults: results by
 * callback, activation completing after 2 s), the account at the adapter's default limits; 20,000
 * pre-active lines in the simulator and the inventory; one status-update CSV to `active`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { carrierNames } from '../../src/core/change-types.ts';
import { insertInventory } from '../../test/support/e2e-stack.ts';
import type { SimCall } from '../../test/support/processes.ts';
import { ProcessSampler } from '../lib/proc.ts';
import { exactly, type Figure, info, log, round, type ScenarioResult } from '../lib/report.ts';
import type { ScenarioContext } from '../lib/run-scenario.ts';
import { benchScale, scaled, secondsFromEnv } from '../lib/scale.ts';
import {
  type BenchStack,
  benchIccids,
  linesCalledOnce,
  onCleanup,
  simStats,
  startBenchStack,
  startSimulatorProcess,
  submitAndFollow,
  writeStatusCsv,
} from '../lib/stack.ts';
import { telegenceActivation } from '../lib/telegence-case.ts';

const THINGSPACE_BATCH = 10_000;
const TELEGENCE_BATCH = 200;

export async function run(context: ScenarioContext): Promise<ScenarioResult> {
  const started = performance.now();
  const rows = scaled(20_000);
  const figures: Figure[] = [];
  const details: Record<string, unknown> = {
    rows,
    scale: benchScale,
    carriersInThisBuild: carrierNames,
  };
  const notes: string[] = [];

  {
    const result = await thingSpaceActivation(rows, context);
    details.thingspace = result;
    const minimum = Math.ceil(rows / THINGSPACE_BATCH);
    figures.push(
      info({
        name: `ThingSpace activation rows/s end to end${result.partial ? ' (capped, over the rows done)' : ''}`,
        value: result.rowsPerSecond,
        unit: 'rows/s',
      }),
      {
        ...exactly(
          {
            name: `ThingSpace activate requests ÷ minimum (${minimum})`,
            value: result.activateRequests === null ? null : round(result.activateRequests / minimum, 2),
            unit: '',
            ratio: result.activateRequests === null ? null : round(result.activateRequests / minimum, 2),
          },
          1,
          '= 1 (the minimum)',
        ),
      },
    );
    if (result.note) notes.push(result.note);
    const last = figures.at(-1)!;
    if (last.verdict === 'missed') {
      last.limitedBy = `${result.activateRequests} activate requests for ${rows} lines (batch limit ${THINGSPACE_BATCH}); sizes: ${JSON.stringify(result.activateBatchSizes)}`;
    }
  }

  {
    const dir = mkdtempSync(path.join(tmpdir(), 'bulkchange-bench-telegence-'));
    onCleanup(async () => rmSync(dir, { recursive: true, force: true }));
    const result = await telegenceActivation(rows, context, dir);
    details.telegence = result;
    const minimum = Math.ceil(rows / TELEGENCE_BATCH);
    const ratio = round(result.activateRequests / minimum, 2);
    figures.push(
      info({ name: 'Telegence activation rows/s end to end', value: result.rowsPerSecond, unit: 'rows/s' }),
      exactly(
        { name: `Telegence activation requests ÷ minimum (${minimum})`, value: ratio, unit: '', ratio },
        1,
        '= 1 (the minimum)',
      ),
    );
    if (!result.final) notes.push(`Telegence: not final at the cap: ${JSON.stringify(result.counts)}`);
  }
  return {
    scenario: 'batched',
    title: `ThingSpace and Telegence activations of ${rows.toLocaleString('en-US')} lines`,
    status: notes.length > 0 ? 'capped' : 'completed',
    ranAt: new Date().toISOString(),
    durationMs: Math.round(performance.now() - started),
    figures,
    details,
    notes,
  };
}

async function thingSpaceActivation(rows: number, context: ScenarioContext) {
  const stack = await startBenchStack({ dialect: 'sqlite', profileDir: context.profileDir });
  const { simulator, url: simulatorUrl, sim } = await startSimulatorProcess('thingspace');
  const accountId = await createThingSpaceAccount(stack, simulatorUrl);
  await stack.server!.kill('SIGTERM');
  const iccids = benchIccids(rows, '8914811');
  for (let start = 0; start < rows; start += 10_000) {
    await sim.seed(iccids.slice(start, start + 10_000).map((iccid) => ({ iccid, state: 'pre-active' })));
  }
  await insertInventory(stack.databaseLocation, {
    tenant: 'acme',
    accountId,
    iccids,
    state: 'pre-active',
    status: 'inventory',
  });
  const dir = mkdtempSync(path.join(tmpdir(), 'bulkchange-bench-batched-'));
  onCleanup(async () => rmSync(dir, { recursive: true, force: true }));
  const csv = path.join(dir, 'activate.csv');
  await writeStatusCsv(csv, iccids, 'active');
  await stack.startServer();
  log(`batched: ThingSpace activation of ${rows} lines`);

  const server = new ProcessSampler(stack.server!.process.pid!, 1000);
  const submittedAt = Date.now();
  const submitted = performance.now();
  const capMs = secondsFromEnv('BENCH_BATCHED_CAP_S', 120) * 1000;
  const { post, wait } = await submitAndFollow(
    stack,
    csv,
    { carrierAccountId: accountId, changeType: 'status_update' },
    capMs,
    'batched',
  );
  const serverCoresBusy = round(server.cpuMsSinceStart() / (performance.now() - submitted), 2);
  server.stop();
  const activations = await sim.calls('activate');
  const statusPolls = (await sim.calls('request_status')).length;
  const stats = await simStats(simulatorUrl);
  const callbacks = await fetch(`${simulatorUrl}/_sim/callbacks`)
    .then((response) => response.json() as Promise<unknown[]>)
    .then((list) => list.length)
    .catch(() => null);
  await stack.shutdown();
  await simulator.kill('SIGKILL');

  const completedAt = wait.view?.completedAt ? Date.parse(wait.view.completedAt) : null;
  const endToEndMs = wait.final && completedAt !== null ? completedAt - submittedAt : null;
  const done = (wait.view?.counts.succeeded ?? 0) + (wait.view?.counts.failed ?? 0);
  const result = {
    final: wait.final,
    status: wait.view?.status ?? null,
    counts: wait.view?.counts ?? null,
    timeTo201Ms: Math.round(post.elapsedMs),
    endToEndMs,
    // Capped: the rate of the rows done up to the last progress read.
    rowsPerSecond: endToEndMs
      ? round((rows / endToEndMs) * 1000, 0)
      : round((done / (post.elapsedMs + wait.lastViewMs)) * 1000, 0),
    partial: !wait.final,
    activateRequests: activations.length,
    activateBatchSizes: activations.map((call: SimCall) => call.iccids.length),
    activateStatuses: activations.map((call: SimCall) => call.status),
    linesActivatedOnce: linesCalledOnce(activations.filter((c: SimCall) => c.status === 200)),
    callbackDeliveries: callbacks,
    /** Request-status polls: rows whose result did not arrive by callback in time. */
    statusPolls,
    simulatorRequests: stats.requests ?? null,
    serverCoresBusy,
    ...(wait.final
      ? {}
      : {
          note:
            `ThingSpace: not final at the ${capMs / 1000} s cap although all ${callbacks} callbacks were delivered: ` +
            `${JSON.stringify(wait.view?.counts)}; rows/s is measured over the ${done} rows done`,
        }),
  };
  log(`batched: ${JSON.stringify({ ...result, activateBatchSizes: undefined })}`);
  return result;
}

/** As the e2e test makes it: the simulator's demo credentials, callbacks to this server. */
async function createThingSpaceAccount(stack: BenchStack, simulatorUrl: string): Promise<string> {
  if (!stack.server?.running) await stack.startServer();
  const created = await stack.api<{ id: string; settings: Record<string, unknown> }>(
    'POST',
    '/api/v1/carrier-accounts',
    {
      body: {
        name: 'thingspace bench',
        carrier: 'thingspace',
        baseUrl: simulatorUrl,
        credentials: {
          clientId: 'demo-client-id',
          clientSecret: 'demo-client-secret',
          username: 'demo-user',
          password: 'demo-password',
          callbackPassword: 'bench-callback-secret',
        },
        writeEnabled: true,
        settings: {
          accountName: '0000123456-00001',
          defaultServicePlan: 'M2M4G1GB',
          defaultMdnZipCode: '98801',
          callbackUsername: 'bulkchange',
        },
      },
    },
  );
  if (created.status !== 201) throw new Error(`carrier account: ${created.status} ${created.text}`);
  const accountId = created.body.id;
  const patched = await stack.api('PATCH', `/api/v1/carrier-accounts/${accountId}`, {
    body: {
      settings: { ...created.body.settings, callbackUrl: `${stack.url}/callbacks/thingspace/${accountId}` },
    },
  });
  if (patched.status !== 200) throw new Error(`carrier account PATCH: ${patched.status} ${patched.text}`);
  return accountId;
}
