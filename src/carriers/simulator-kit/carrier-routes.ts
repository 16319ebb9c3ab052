import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sleep } from '../../shared/time.ts';
import type { CallLog } from './call-log.ts';
import type { CarrierRoute, SimFailure, SimRequest, SimResponse } from './definition.ts';
import { clientErrorStatus, errorMessage } from './fastify-errors.ts';
import type { FaultSet } from './faults.ts';
import type { Limiter } from './rate-limit.ts';
import type { TrafficStats } from './traffic-stats.ts';

export interface CarrierScope {
  routes: CarrierRoute[];
  errorEnvelope: (failure: SimFailure) => unknown;
  retryAfterHeader: boolean;
  faults: FaultSet;
  limiter: Limiter;
  stats: TrafficStats;
  calls: CallLog;
}

/** Registers the carrier's routes behind the fault gate, with the call log and the carrier's envelope. */
export const registerCarrierRoutes = (app: FastifyInstance, scope: CarrierScope): void => {
  app.setErrorHandler((error, _request, reply) => {
    const status = clientErrorStatus(error);
    if (status === 500) reply.log.error({ err: error }, 'simulator route failed');
    const failure: SimFailure =
      status === 500
        ? { kind: 'internal', status, message: 'Internal server error' }
        : { kind: status === 404 ? 'not_found' : 'bad_request', status, message: errorMessage(error) };
    return reply.code(status).send(scope.errorEnvelope(failure));
  });
  for (const route of scope.routes) {
    app.route({
      method: route.method,
      url: route.url,
      onRequest: async (request) => {
        arrivals.set(request, Date.now());
      },
      // After body parsing, so that refused requests are logged with the lines they named.
      preValidation: (_request, reply) => gate(scope, reply),
      onSend: async (request, reply, payload) => {
        logCall(scope, route, request, reply);
        return payload;
      },
      handler: async (request, reply) => {
        const response = await route.handle(toSimRequest(request));
        if (response.status >= 400 || !scope.faults.takeDroppedAnswer()) return answer(reply, response);
        // The carrier acted; its answer never reaches the caller. Logged as the carrier answered it.
        scope.stats.errorInjected();
        reply.code(response.status);
        logCall(scope, route, request, reply);
        reply.hijack();
        reply.raw.destroy();
      },
    });
  }
};

/**
 * Applies the faults in the order a real gateway would meet them: outage (503), limits (429, with
 * Retry-After unless the carrier sends none; refused requests hold no slot), latency (holding the
 * concurrency slot), injected 500s. A dropped answer comes last, once the carrier has acted (the
 * handler above).
 */
const gate = async (scope: CarrierScope, reply: FastifyReply): Promise<FastifyReply | undefined> => {
  const faults = scope.faults.get();
  if (faults.outage) {
    scope.stats.errorInjected();
    return refuse(scope, reply, { kind: 'outage', status: 503, message: 'Service temporarily unavailable' });
  }
  const admission = scope.limiter.admit();
  if (!admission.ok) {
    scope.stats.rateLimited();
    const message =
      admission.reason === 'rate_limited' ? 'Request rate limit exceeded' : 'Too many concurrent requests';
    const { retryAfterSeconds } = admission;
    if (scope.retryAfterHeader) reply.header('retry-after', String(retryAfterSeconds));
    return refuse(scope, reply, { kind: admission.reason, status: 429, message, retryAfterSeconds });
  }
  // 'close' also fires when the client gives up, so an abandoned request frees its slot.
  reply.raw.once('close', admission.release);
  scope.stats.accepted(admission.inFlight);
  if (faults.latencyMs > 0) await sleep(faults.latencyMs);
  if (scope.faults.takeInjectedError()) {
    scope.stats.errorInjected();
    return refuse(scope, reply, { kind: 'injected_error', status: 500, message: 'Internal server error' });
  }
  return undefined;
};

const refuse = (scope: CarrierScope, reply: FastifyReply, failure: SimFailure) =>
  reply.code(failure.status).send(scope.errorEnvelope(failure));

/** Sends what a simulator's handler answered: status, headers and body. */
export const answer = (reply: FastifyReply, response: SimResponse) =>
  reply
    .code(response.status)
    .headers(response.headers ?? {})
    .send(response.body);

/**
 * When each request arrived, taken as it does. (`Date.now() - reply.elapsedTime` at the answer is not
 * that: for a request whose caller gave up during a slow answer it gave the time of the answer, and a
 * limit measured from the log then saw a request that had arrived seconds earlier next to later ones.)
 */
const arrivals = new WeakMap<FastifyRequest, number>();

// In onSend the status is final and the client has not seen the answer yet: an in-process reader of
// the log never misses a call whose response it already holds.
const logCall = (scope: CarrierScope, route: CarrierRoute, request: FastifyRequest, reply: FastifyReply) => {
  scope.stats.received();
  scope.calls.record({
    at: new Date(arrivals.get(request) ?? Date.now()).toISOString(),
    method: request.method,
    path: request.url,
    action: route.action,
    iccids: route.iccids(toSimRequest(request)),
    status: reply.statusCode,
  });
};

export const toSimRequest = (request: FastifyRequest): SimRequest => ({
  method: request.method,
  params: request.params as Record<string, string>,
  query: new URL(request.url, 'http://simulator').searchParams,
  body: request.body,
  headers: request.headers,
});
