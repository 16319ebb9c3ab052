import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { luhnCheckDigit } from '../../src/core/identifiers.ts';
import type { SimCall } from '../../test/support/processes.ts';
import { log, round } from './report.ts';
import type { ScenarioContext } from './run-scenario.ts';
import { secondsFromEnv } from './scale.ts';
import {
  benchIccids,
  linesCalledOnce,
  startBenchStack,
  startSimulatorProcess,
  submitAndFollow,
} from './stack.ts';

/**
 * A Telegence new service of `rows` SIMs against `bulkchange simulate telegence` (activation stages of
 * 500 ms): time end to end and the activation requests used, each SIM's posts counted.
 */
export async function telegenceActivation(rows: number, context: ScenarioContext, dir: string) {
  const stack = await startBenchStack({ dialect: 'sqlite', profileDir: context.profileDir });
  await stack.startServer();
  const { simulator, url: simulatorUrl, sim } = await startSimulatorProcess('telegence');
  await sim.setFaults({ activationStepMs: 500, rateLimitPerSecond: null, maxConcurrent: null });
  const created = await stack.api<{ id: string }>('POST', '/api/v1/carrier-accounts', {
    body: {
      name: 'telegence bench',
      carrier: 'telegence',
      baseUrl: simulatorUrl,
      credentials: { appId: 'demo-app', appSecret: 'demo-app-secret' },
      writeEnabled: true,
      settings: { limits: { checkIntervalMs: 1_000 } },
    },
  });
  if (created.status !== 201) throw new Error(`carrier account: ${created.status} ${created.text}`);
  const csv = path.join(dir, 'telegence-activate.csv');
  const iccids = benchIccids(rows, '8901418');
  const lines = iccids.map((iccid, index) => {
    const payload = `35391108${String(index).padStart(6, '0')}`;
    return `${iccid},${payload}${luhnCheckDigit(payload)},287301234567,APX1G5M30,75001,Fleet,Unit`;
  });
  writeFileSync(csv, `iccid,imei,ban,rate_plan,zip,first_name,last_name\n${lines.join('\n')}\n`);
  log(`batched: Telegence activation of ${rows} lines`);

  const submittedAt = Date.now();
  const capMs = secondsFromEnv('BENCH_BATCHED_CAP_S', 120) * 1000;
  const { post, wait } = await submitAndFollow(
    stack,
    csv,
    { carrierAccountId: created.body.id, changeType: 'activate_new_service' },
    capMs,
    'batched',
  );
  const activations = (await sim.calls('activate')).filter((call: SimCall) => call.status === 201);
  const polls = (await sim.calls('activation_status')).length;
  await stack.shutdown();
  await simulator.kill('SIGKILL');

  const completedAt = wait.view?.completedAt ? Date.parse(wait.view.completedAt) : null;
  const endToEndMs = wait.final && completedAt !== null ? completedAt - submittedAt : null;
  const result = {
    final: wait.final,
    status: wait.view?.status ?? null,
    counts: wait.view?.counts ?? null,
    timeTo201Ms: Math.round(post.elapsedMs),
    endToEndMs,
    rowsPerSecond: endToEndMs ? round((rows / endToEndMs) * 1000, 0) : null,
    activateRequests: activations.length,
    linesPostedOnce: linesCalledOnce(activations),
    statusPolls: polls,
  };
  log(`batched: ${JSON.stringify(result)}`);
  return result;
}
