import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { type HealthDeps, healthRoutes } from './health-routes.ts';

/**
 * The little HTTP server of a `worker` process (it serves no API): `/healthz`, `/readyz` and
 * `/metrics`, so a worker is watched like any other process (operations.md).
 */
export async function buildWorkerApp(deps: HealthDeps & { logger: Logger }): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: deps.logger as FastifyBaseLogger, disableRequestLogging: true });
  healthRoutes(app, deps);
  return app;
}
