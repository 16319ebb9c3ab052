/**
 * 8. answers: what checking answers against their documented schemas costs (ADR 0058). A 1,000-row
 * bulk change is run; then its largest page (`GET /bulk-changes/{id}/changes?limit=1000`) and the bulk
 * change itself (`GET /bulk-changes/{id}`) are read 50 times each, by a server that writes answers as
 * built (`BULKCHANGE_ANSWER_CHECK=off`, production), one that parses and strips them with the schema
 * (`strip`, the type provider's own serializer) and one that refuses any difference (`strict`, the tests),
 * taking turns; then each serializer alone, in this process, on the same two answers.
 */
import { Pool } from 'undici';
import type { z } from 'zod';
import { bulkChangeViewSchema, deviceChangeViewSchema } from '../../src/bulk-changes/views.ts';
import { type AnswerCheck, answerChecks } from '../../src/config.ts';
import { answerSerializer } from '../../src/http/answer-serializer.ts';
import { pageOf } from '../../src/shared/answers.ts';
import { byIccid, submitChange } from '../../test/support/bulk-changes.ts';
import { waitForBulkChange } from '../../test/support/processes.ts';
import { type Figure, info, log, percentile, round, type ScenarioResult } from '../lib/report.ts';
import type { ScenarioContext } from '../lib/run-scenario.ts';
import { type BenchStack, startBenchStack } from '../lib/stack.ts';

const ROWS = 1_000;
const SAMPLES = Number(process.env.BENCH_ANSWERS_SAMPLES) || 50;

interface Server {
  check: AnswerCheck;
  stack: BenchStack;
  pool: Pool;
  bulkPath: string;
}

export async function run(context: ScenarioContext): Promise<ScenarioResult> {
  const started = performance.now();
  const servers: Server[] = [];
  try {
    for (const check of answerChecks) servers.push(await serverWith(check, context));
    const time = async (server: Server, path: string) => {
      const t0 = performance.now();
      const response = await server.pool.request({
        path,
        method: 'GET',
        headers: { authorization: `Bearer ${server.stack.adminKey}` },
      });
      const body = await response.body.text();
      if (response.statusCode !== 200)
        throw new Error(`GET ${path}: ${response.statusCode} ${body.slice(0, 300)}`);
      return { ms: performance.now() - t0, body };
    };
    const pageOfRows = (server: Server) => `${server.bulkPath}/changes?limit=${ROWS}`;
    // Warm-up: the first requests pay for JIT compilation and cold pages.
    for (let index = 0; index < 5; index++) {
      for (const server of servers) {
        await time(server, server.bulkPath);
        await time(server, pageOfRows(server));
      }
    }
    // The servers take turns, so the machine's other work weighs on each alike.
    const times = new Map(
      servers.map((server) => [server.check, { bulk: [] as number[], page: [] as number[] }]),
    );
    for (let index = 0; index < SAMPLES; index++) {
      for (const server of servers) {
        times.get(server.check)!.bulk.push((await time(server, server.bulkPath)).ms);
        times.get(server.check)!.page.push((await time(server, pageOfRows(server))).ms);
      }
    }
    const page = JSON.parse((await time(servers[0], pageOfRows(servers[0]))).body) as unknown;
    const bulk = JSON.parse((await time(servers[0], servers[0].bulkPath)).body) as unknown;
    const measured = Object.fromEntries(
      servers.map((server) => {
        const { bulk: bulkTimes, page: pageTimes } = times.get(server.check)!;
        return [
          server.check,
          {
            bulkChangeMs: round(percentile(bulkTimes, 50), 2),
            rowsPageMs: round(percentile(pageTimes, 50), 1),
            // The serializer alone, in this process, on the same answers: the part the check adds.
            serializeRowsPageMs: serializeMs(server.check, pageOf(deviceChangeViewSchema), page),
            serializeBulkChangeMs: serializeMs(server.check, bulkChangeViewSchema, bulk),
          },
        ];
      }),
    );
    log(`answers: ${JSON.stringify(measured)}`);
    const figures: Figure[] = answerChecks.flatMap((check) => [
      info({
        name: `GET …/changes?limit=${ROWS} p50, ${check}`,
        value: measured[check].rowsPageMs,
        unit: 'ms',
      }),
      info({
        name: `  its serializer alone, ${check}`,
        value: measured[check].serializeRowsPageMs,
        unit: 'ms',
      }),
      info({ name: `GET /bulk-changes/{id} p50, ${check}`, value: measured[check].bulkChangeMs, unit: 'ms' }),
      info({
        name: `  its serializer alone, ${check}`,
        value: measured[check].serializeBulkChangeMs,
        unit: 'ms',
      }),
    ]);
    return {
      scenario: 'answers',
      title: `answers checked against their schemas: a ${ROWS}-row page and a bulk change, ${SAMPLES} reads each`,
      status: 'completed',
      ranAt: new Date().toISOString(),
      durationMs: Math.round(performance.now() - started),
      figures,
      details: { rows: ROWS, samples: SAMPLES, pageBytes: JSON.stringify(page).length, measured },
      notes: [],
    };
  } finally {
    for (const server of servers) {
      await server.pool.close();
      await server.stack.shutdown();
    }
  }
}

/** A server with the given check, and a finished 1,000-row bulk change on it. */
async function serverWith(check: AnswerCheck, context: ScenarioContext): Promise<Server> {
  const stack = await startBenchStack({
    dialect: 'sqlite',
    profileDir: context.profileDir,
    env: { BULKCHANGE_ANSWER_CHECK: check },
  });
  await stack.startServer();
  const { accountId, iccids } = await stack.createJasperAccount({
    limits: { requestsPerSecond: null, maxConcurrent: 8 },
    count: ROWS,
    prefix: '8901333',
  });
  const id = await submitChange(stack, accountId, byIccid(iccids), 'status_update', {
    targetStatus: 'active',
  });
  await waitForBulkChange(stack.api, id, 120_000);
  const pool = new Pool(stack.url, { connections: 1, pipelining: 1 });
  return { check, stack, pool, bulkPath: `/api/v1/bulk-changes/${id}` };
}

/** The median time of the check's serializer over one answer, 50 runs after 5 to warm up. */
function serializeMs(check: AnswerCheck, schema: z.ZodType, answer: unknown): number | null {
  const serialize = answerSerializer(check)({ schema, method: 'GET', url: '', httpStatus: '200' } as never);
  const runs: number[] = [];
  for (let index = 0; index < 55; index++) {
    const t0 = performance.now();
    serialize(answer);
    if (index >= 5) runs.push(performance.now() - t0);
  }
  return round(percentile(runs, 50), 3);
}
