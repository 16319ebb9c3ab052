import Fastify, { type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import type { SimDevice } from '../../carriers/simulator-kit/device-store.ts';
import type { SimulatorServer } from '../../carriers/simulator-kit/simulator.ts';

/**
 * The kit's server without `Retry-After`: Rev.io tells a throttled client how long to wait only in the
 * message text, and a client must be tested against that. The kit always sets the header on its 429s
 * and builds its standalone app around its own plugin, so both the plugin and `listen` are wrapped.
 */
export const withoutRetryAfter = <D extends SimDevice>(
  kit: SimulatorServer<D>,
  notFoundBody: unknown,
): SimulatorServer<D> => {
  const plugin: FastifyPluginAsync = async (app, options) => {
    app.addHook('onSend', async (_request, reply, payload) => {
      reply.removeHeader('retry-after');
      return payload;
    });
    await kit.plugin(app, options);
  };
  let standalone: FastifyInstance | undefined;
  return {
    ...kit,
    plugin,
    async listen({ port = 0, host = '127.0.0.1' } = {}) {
      if (standalone !== undefined) throw new Error('The simulator is already listening');
      const app = Fastify({ logger: false });
      app.setNotFoundHandler((_request, reply) => reply.code(404).send(notFoundBody));
      app.register(plugin);
      standalone = app;
      return app.listen({ port, host });
    },
    async close() {
      await standalone?.close();
      standalone = undefined;
    },
  };
};
