import Fastify, { type FastifyInstance, type FastifyPluginAsync, type FastifyRequest } from 'fastify';
import { registerAdminRoutes } from './admin-routes.ts';
import { CallLog } from './call-log.ts';
import { registerCarrierRoutes } from './carrier-routes.ts';
import type { SimulatorDefinition } from './definition.ts';
import type { DeviceStore, SimDevice } from './device-store.ts';
import { FaultSet } from './faults.ts';
import { Limiter } from './rate-limit.ts';
import { type SimStats, TrafficStats } from './traffic-stats.ts';

export interface SimulatorServer<D extends SimDevice> {
  /**
   * The carrier routes and the admin API (`/_sim/*`) as an encapsulated Fastify plugin, e.g.
   * `app.register(sim.plugin, {prefix: '/simulators/jasper'})`. It brings its own JSON parser, serializer
   * and error handlers; hooks a parent registers on its root still reach it, so mount it beside, not
   * under, an authenticated scope.
   */
  plugin: FastifyPluginAsync;
  /** Runs the simulator standalone; resolves to its base URL, e.g. `http://127.0.0.1:41234`. */
  listen: (options?: { port?: number; host?: string }) => Promise<string>;
  close: () => Promise<void>;
  store: DeviceStore<D>;
  calls: CallLog;
  faults: FaultSet;
  stats: () => SimStats;
  /** What `POST /_sim/reset` does: no lines, no calls, no stats, the default faults. */
  reset: () => void;
}

const bodyLimitBytes = 64 * 1024 * 1024;

export const createSimulatorServer = <D extends SimDevice, Seed extends { iccid: string }>(
  definition: SimulatorDefinition<D, Seed>,
): SimulatorServer<D> => {
  const { store, errorEnvelope } = definition;
  const faults = new FaultSet(definition.defaultFaults);
  const limiter = new Limiter(() => faults.get());
  const stats = new TrafficStats();
  const calls = new CallLog(definition.callLogCapacity);
  const reset = () => {
    store.clear();
    calls.clear();
    faults.reset();
    definition.extraFaults?.reset();
    limiter.reset();
    stats.reset();
    definition.onReset?.();
  };

  const plugin: FastifyPluginAsync = async (app) => {
    isolateFromParent(app, definition.contentTypeParsers ?? {});
    const { onClose } = definition;
    if (onClose !== undefined) app.addHook('onClose', async () => onClose());
    app.register(async (carrier) =>
      registerCarrierRoutes(carrier, {
        routes: definition.routes,
        errorEnvelope,
        retryAfterHeader: definition.retryAfterHeader ?? true,
        faults,
        limiter,
        stats,
        calls,
      }),
    );
    app.register(
      async (admin) =>
        registerAdminRoutes(admin, {
          store,
          seedSchema: definition.seedSchema,
          fromSeed: definition.fromSeed,
          calls,
          faults,
          extraFaults: definition.extraFaults,
          routes: definition.adminRoutes ?? [],
          stats,
          reset,
        }),
      { prefix: '/_sim' },
    );
  };

  let standalone: FastifyInstance | undefined;
  return {
    plugin,
    store,
    calls,
    faults,
    stats: () => stats.snapshot(),
    reset,
    async listen({ port = 0, host = '127.0.0.1' } = {}) {
      if (standalone !== undefined) throw new Error('The simulator is already listening');
      const app = Fastify({ logger: false });
      // Only standalone: mounted in another app, the 404 of unknown paths is that app's business.
      app.setNotFoundHandler((_request, reply) =>
        reply
          .code(404)
          .send(errorEnvelope({ kind: 'not_found', status: 404, message: 'Resource not found' })),
      );
      app.register(plugin);
      standalone = app;
      return app.listen({ port, host });
    },
    async close() {
      // First, so that no background work runs while the server drains.
      definition.onClose?.();
      await standalone?.close();
      standalone = undefined;
    },
  };
};

/** A parent's parsers (CSV, multipart, a stricter JSON) and serializer must not change the carrier API. */
const isolateFromParent = (
  app: FastifyInstance,
  parsers: Record<string, (body: string) => unknown>,
): void => {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'string', bodyLimit: bodyLimitBytes },
    app.getDefaultJsonParser('error', 'error'),
  );
  for (const [contentType, parse] of Object.entries(parsers)) {
    app.addContentTypeParser(
      contentType,
      { parseAs: 'string', bodyLimit: bodyLimitBytes },
      async (_request: FastifyRequest, body: string | Buffer) => parse(String(body)),
    );
  }
  app.setReplySerializer((payload) => JSON.stringify(payload));
};
