import type { FastifyInstance } from 'fastify';
import { errorBody } from '../core/problem.ts';
import { type Db, ping } from '../db/database.ts';
import { countJobs } from '../queue/index.ts';
import type { Metrics } from './metrics.ts';

export function healthRoutes(app: FastifyInstance, { db, metrics }: { db: Db; metrics: Metrics }): void {
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
    if (await ping(db)) return { status: 'ready' };
    return reply
      .status(503)
      .send(errorBody({ code: 'NOT_READY', message: 'The database is not reachable', details: [] }));
  });

  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    const counts = await countJobs(db);
    for (const state of ['pending', 'running', 'failed', 'due'] as const)
      metrics.jobs.set({ state }, counts[state]);
    return reply.header('content-type', metrics.registry.contentType).send(await metrics.registry.metrics());
  });
}
