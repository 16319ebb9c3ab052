import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { adminError, adminValidationError } from './admin-errors.ts';
import type { CallLog } from './call-log.ts';
import { answer, toSimRequest } from './carrier-routes.ts';
import type { AdminRoute, FaultsExtension } from './definition.ts';
import type { DeviceStore, SimDevice } from './device-store.ts';
import { clientErrorStatus, errorMessage } from './fastify-errors.ts';
import { type FaultSet, faultsPatchSchema } from './faults.ts';
import type { TrafficStats } from './traffic-stats.ts';

export interface AdminScope<D extends SimDevice, Seed extends { iccid: string }> {
  store: DeviceStore<D>;
  seedSchema: z.ZodType<Seed>;
  fromSeed: (seed: Seed, existing: D | undefined) => D;
  calls: CallLog;
  faults: FaultSet;
  extraFaults?: FaultsExtension;
  /** The carrier's own admin routes. */
  routes?: AdminRoute[];
  stats: TrafficStats;
  reset: () => void;
}

const callsQuerySchema = z.object({
  iccid: z.string().optional(),
  action: z.string().optional(),
  status: z.coerce.number().int().optional(),
});
const devicesQuerySchema = z.object({ iccid: z.string().optional() });

/** The admin API of API.md §5 (plus `GET /stats`), mounted under `/_sim`; no auth, no faults. */
export const registerAdminRoutes = <D extends SimDevice, Seed extends { iccid: string }>(
  app: FastifyInstance,
  scope: AdminScope<D, Seed>,
): void => {
  app.setErrorHandler((error, _request, reply) => {
    const status = clientErrorStatus(error);
    if (status < 500) return answer(reply, adminError(status, 'BAD_REQUEST', errorMessage(error)));
    reply.log.error({ err: error }, 'simulator admin route failed');
    return answer(reply, adminError(500, 'INTERNAL', 'Internal server error'));
  });

  app.get('/devices', async (request, reply) => {
    const query = devicesQuerySchema.safeParse(request.query);
    if (!query.success) return invalid(reply, query.error);
    const { iccid } = query.data;
    if (iccid === undefined) return scope.store.list();
    const device = scope.store.get(iccid);
    return device === undefined ? [] : [device];
  });

  app.post('/devices', async (request, reply) => {
    const seeds = z.array(scope.seedSchema).safeParse(request.body);
    if (!seeds.success) return invalid(reply, seeds.error);
    let created = 0;
    for (const seed of seeds.data) {
      if (scope.store.put(scope.fromSeed(seed, scope.store.get(seed.iccid)))) created += 1;
    }
    return { created, updated: seeds.data.length - created };
  });

  app.get('/calls', async (request, reply) => {
    const query = callsQuerySchema.safeParse(request.query);
    if (!query.success) return invalid(reply, query.error);
    return scope.calls.query(query.data);
  });

  const extra = scope.extraFaults;
  const allFaults = () => ({ ...scope.faults.get(), ...extra?.get() });
  const patchSchema = extra ? faultsPatchSchema.extend(extra.patchSchema.shape) : faultsPatchSchema;
  const kitFaultNames = new Set(Object.keys(faultsPatchSchema.shape));

  app.get('/faults', async () => allFaults());

  app.put('/faults', async (request, reply) => {
    const patch = patchSchema.safeParse(request.body);
    if (!patch.success) return invalid(reply, patch.error);
    const entries = Object.entries(patch.data);
    scope.faults.update(Object.fromEntries(entries.filter(([name]) => kitFaultNames.has(name))));
    extra?.update(Object.fromEntries(entries.filter(([name]) => !kitFaultNames.has(name))));
    return allFaults();
  });

  app.post('/reset', async (_request, reply) => {
    scope.reset();
    return reply.code(204).send();
  });

  app.get('/stats', async () => scope.stats.snapshot());

  for (const route of scope.routes ?? []) {
    app.route({
      method: route.method,
      url: route.url,
      handler: async (request, reply) => answer(reply, await route.handle(toSimRequest(request))),
    });
  }
};

const invalid = (reply: FastifyReply, error: z.ZodError) => answer(reply, adminValidationError(error));
