import type { FastifyInstance } from 'fastify';
import { errorBody } from '../core/problem.ts';
import { type Db, ping } from '../db/database.ts';
import { countJobs } from '../queue/index.ts';
import type { Metrics } from './metrics.ts';

export interface HealthDeps {
  db: Db;
  metrics: Metrics;
  /**
   * What else this process needs to do its work, beyond a database that answers: why it is not ready
   * (e.g. its worker's claims fail, its wake-up connection is down), or null.
   */
  notReadyBecause?: () => string | null;
  /** Refreshes gauges read from this process's state just before a scrape. */
  beforeScrape?: () => void;
}

/** `/healthz`, `/readyz` and `/metrics`: served by every process, API or worker (operations.md). */
export function healthRoutes(app: FastifyInstance, deps: HealthDeps): void {
  const { db, metrics } = deps;
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
    const notReady = (message: string) =>
      reply.status(503).send(errorBody({ code: 'NOT_READY', message, details: [] }));
    if (!(await ping(db))) return notReady('The database is not reachable');
    const reason = deps.notReadyBecause?.() ?? null;
    if (reason !== null) return notReady(reason);
    return { status: 'ready' };
  });

  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    const counts = await countJobs(db);
    for (const state of ['pending', 'running', 'failed', 'due'] as const)
      metrics.jobs.set({ state }, counts[state]);
    deps.beforeScrape?.();
    return reply.header('content-type', metrics.registry.contentType).send(await metrics.registry.metrics());
  });
}
