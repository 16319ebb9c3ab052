import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import Fastify from 'fastify';
import { z } from 'zod';
import type { CallEntry } from './call-log.ts';
import type { CarrierRoute, SimFailure } from './definition.ts';
import { DeviceStore } from './device-store.ts';
import { createSimulatorServer, type SimulatorServer } from './simulator.ts';
import { httpJson } from './test-client.ts';

interface AcmeLine {
  iccid: string;
  state: string;
}

const iccidA = '89014103211118510720';
const iccidB = '89014103211118510738';

/** A tiny carrier: GET a line, activate one, activate several named in the body. */
const createAcmeSimulator = () => {
  const store = new DeviceStore<AcmeLine>();
  const iccidParam = (request: { params: Record<string, string> }) => [request.params.iccid];
  const routes: CarrierRoute[] = [
    {
      method: 'GET',
      url: '/acme/lines/:iccid',
      action: 'get_line',
      iccids: iccidParam,
      handle: (request) => {
        const line = store.get(request.params.iccid);
        return line ? { status: 200, body: line } : { status: 404, body: { fault: 'no such line' } };
      },
    },
    {
      method: 'POST',
      url: '/acme/activations',
      action: 'activate',
      iccids: (request) => {
        const body = z.object({ iccids: z.array(z.string()) }).safeParse(request.body);
        return body.success ? body.data.iccids : [];
      },
      handle: (request) => {
        const { iccids } = z.object({ iccids: z.array(z.string()) }).parse(request.body);
        for (const iccid of iccids) store.put({ iccid, state: 'active' });
        return { status: 202, body: { accepted: iccids.length }, headers: { 'x-acme': 'yes' } };
      },
    },
  ];
  return createSimulatorServer({
    store,
    routes,
    defaultFaults: { rateLimitPerSecond: 1000 },
    seedSchema: z.object({ iccid: z.string().regex(/^\d{19,20}$/), state: z.string().optional() }),
    fromSeed: (seed, existing) => ({ iccid: seed.iccid, state: seed.state ?? existing?.state ?? 'inactive' }),
    errorEnvelope: (failure: SimFailure) => ({ fault: failure.kind, text: failure.message }),
  });
};

describe('simulator kit (standalone)', () => {
  let sim: SimulatorServer<AcmeLine>;
  let base: string;
  const carrier = (path: string, init?: Parameters<typeof httpJson>[1]) =>
    httpJson(`${base}/acme${path}`, init);
  const admin = (path: string, init?: Parameters<typeof httpJson>[1]) =>
    httpJson(`${base}/_sim${path}`, init);
  const setFaults = async (faults: object) =>
    assert.equal((await admin('/faults', { method: 'PUT', body: faults })).status, 200);
  const statuses = async (count: number, path = `/lines/${iccidA}`) => {
    const result: number[] = [];
    for (let i = 0; i < count; i += 1) result.push((await carrier(path)).status);
    return result;
  };

  beforeEach(async () => {
    sim = createAcmeSimulator();
    base = await sim.listen({ port: 0 });
    await admin('/devices', {
      method: 'POST',
      body: [{ iccid: iccidA }, { iccid: iccidB, state: 'active' }],
    });
  });
  afterEach(() => sim.close());

  it('seeds lines by upsert and lists them, whole or by ICCID', async () => {
    const upsert = await admin('/devices', {
      method: 'POST',
      body: [{ iccid: iccidA, state: 'active' }, { iccid: '8901410321111851074' }],
    });
    assert.deepEqual(upsert, { status: 200, headers: upsert.headers, body: { created: 1, updated: 1 } });
    assert.equal(((await admin('/devices')).body as unknown[]).length, 3);
    assert.deepEqual((await admin(`/devices?iccid=${iccidA}`)).body, [{ iccid: iccidA, state: 'active' }]);
    assert.deepEqual((await admin('/devices?iccid=1')).body, []);
  });

  it('refuses an invalid seed with the field that is wrong', async () => {
    const response = await admin('/devices', { method: 'POST', body: [{ iccid: iccidA }, { iccid: 'abc' }] });
    assert.equal(response.status, 400);
    assert.deepEqual(
      (response.body as { error: { code: string; details: { field: string }[] } }).error.code,
      'VALIDATION_FAILED',
    );
    assert.equal(
      (response.body as { error: { details: { field: string }[] } }).error.details[0].field,
      '1.iccid',
    );
    assert.equal(sim.store.size, 2, 'nothing seeded');
  });

  it('serves carrier routes with their status, headers and body', async () => {
    const got = await carrier(`/lines/${iccidB}`);
    assert.deepEqual([got.status, got.body], [200, { iccid: iccidB, state: 'active' }]);
    const activated = await carrier('/activations', { method: 'POST', body: { iccids: [iccidA] } });
    assert.deepEqual([activated.status, activated.headers.get('x-acme')], [202, 'yes']);
    assert.equal(sim.store.get(iccidA)?.state, 'active');
  });

  it('answers a malformed body with the carrier envelope, and logs it', async () => {
    const response = await carrier('/activations', { method: 'POST', body: '{"iccids": [' });
    assert.equal(response.status, 400);
    assert.equal((response.body as { fault: string }).fault, 'bad_request');
    assert.deepEqual(
      sim.calls.query().map((call) => [call.action, call.status]),
      [['activate', 400]],
    );
  });

  it('answers a handler crash with a 500 in the carrier envelope', async () => {
    const response = await carrier('/activations', { method: 'POST', body: { nope: true } });
    assert.deepEqual(
      [response.status, response.body],
      [500, { fault: 'internal', text: 'Internal server error' }],
    );
  });

  it('answers unknown paths with the carrier envelope', async () => {
    const response = await httpJson(`${base}/nowhere`);
    assert.deepEqual([response.status, (response.body as { fault: string }).fault], [404, 'not_found']);
  });

  it('answers every carrier request 503 during an outage, but not the admin API', async () => {
    await setFaults({ outage: true });
    assert.deepEqual(await statuses(3), [503, 503, 503]);
    assert.equal((await admin('/devices')).status, 200);
    assert.deepEqual((await carrier(`/lines/${iccidA}`)).body, {
      fault: 'outage',
      text: 'Service temporarily unavailable',
    });
    await setFaults({ outage: false });
    assert.deepEqual(await statuses(1), [200]);
    assert.equal(sim.stats().errorsInjected, 4);
  });

  it('gives exactly errorBurst 500s, then recovers', async () => {
    await setFaults({ errorBurst: 2 });
    assert.deepEqual(await statuses(4), [500, 500, 200, 200]);
    assert.equal(((await admin('/faults')).body as { errorBurst: number }).errorBurst, 0);
    const failed = sim.calls.query({ status: 500 });
    assert.equal(failed.length, 2);
    assert.equal(sim.stats().errorsInjected, 2);
  });

  it('answers the errorRate share of requests 500', async () => {
    await setFaults({ errorRate: 1 });
    assert.deepEqual(await statuses(3), [500, 500, 500]);
    await setFaults({ errorRate: 0 });
    assert.deepEqual(await statuses(3), [200, 200, 200]);
  });

  it('carries out a request and then loses its answer, at dropAnswerRate', async () => {
    await setFaults({ dropAnswerRate: 1 });
    await assert.rejects(
      carrier('/activations', { method: 'POST', body: { iccids: [iccidA] } }),
      (error: Error) => error instanceof TypeError,
      'the connection closes without an answer',
    );
    assert.equal(sim.store.get(iccidA)?.state, 'active', 'the carrier acted');
    assert.deepEqual(
      sim.calls.query({ action: 'activate' }).map((call) => call.status),
      [202],
      'logged as the carrier answered it',
    );
    assert.equal((await carrier('/lines/nope')).status, 404, 'a refusal is answered');
    await setFaults({ dropAnswerRate: 0 });
    assert.deepEqual(await statuses(2), [200, 200]);
    assert.equal(sim.stats().errorsInjected, 1);
  });

  it('delays answers by latencyMs', async () => {
    await setFaults({ latencyMs: 120 });
    const started = performance.now();
    assert.equal((await carrier(`/lines/${iccidA}`)).status, 200);
    assert.ok(performance.now() - started >= 115, 'answer was delayed');
  });

  it('refuses a burst above the rate limit with 429 and Retry-After', async () => {
    await setFaults({ rateLimitPerSecond: 5 });
    // In parallel, so the burst arrives within milliseconds and the bucket cannot refill meanwhile.
    const burst = await Promise.all([1, 2, 3, 4, 5, 6, 7].map(() => carrier(`/lines/${iccidA}`)));
    assert.deepEqual(burst.map((r) => r.status).sort(), [200, 200, 200, 200, 200, 429, 429]);
    const refused = burst.filter((r) => r.status === 429);
    assert.deepEqual(
      refused.map((r) => [r.headers.get('retry-after'), r.body]),
      Array(2).fill(['1', { fault: 'rate_limited', text: 'Request rate limit exceeded' }]),
    );
    assert.ok(burst.filter((r) => r.status === 200).every((r) => r.headers.get('retry-after') === null));
    const { maxObservedConcurrency: _, ...stats } = sim.stats();
    assert.deepEqual(stats, {
      requests: 7,
      rateLimited: 2,
      errorsInjected: 0,
      maxObservedRequestsPerSecond: 5,
    });
    assert.equal(sim.calls.count({ status: 429 }), 2);
  });

  it('never refuses a client that spaces its requests 1/rate apart, even with an empty bucket', async () => {
    await setFaults({ rateLimitPerSecond: 20 });
    assert.deepEqual(await statuses(20), Array(20).fill(200), 'the bucket holds one second of requests');
    const paced: number[] = [];
    for (let i = 0; i < 10; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      paced.push((await carrier(`/lines/${iccidA}`)).status);
    }
    assert.deepEqual(paced, Array(10).fill(200));
    assert.equal(sim.stats().rateLimited, 0);
  });

  it('refuses requests above maxConcurrent with 429, and frees the slot afterwards', async () => {
    await setFaults({ maxConcurrent: 2, latencyMs: 100 });
    const parallel = await Promise.all([1, 2, 3, 4].map(() => carrier(`/lines/${iccidA}`)));
    assert.deepEqual(parallel.map((r) => r.status).sort(), [200, 200, 429, 429]);
    const refused = parallel.find((r) => r.status === 429);
    assert.ok(refused);
    assert.equal(refused.headers.get('retry-after'), '1');
    assert.equal((refused.body as { fault: string }).fault, 'too_many_concurrent');
    assert.equal(sim.stats().maxObservedConcurrency, 2);
    await setFaults({ maxConcurrent: 1, latencyMs: 0 });
    assert.deepEqual(await statuses(20), Array(20).fill(200), 'a serial client is never refused');
  });

  it('logs every carrier request with its lines, and filters by ICCID, action and status', async () => {
    await carrier(`/lines/${iccidA}`);
    await carrier('/activations', { method: 'POST', body: { iccids: [iccidA, iccidB] } });
    await setFaults({ outage: true });
    await carrier('/activations', { method: 'POST', body: { iccids: [iccidB] } });
    await setFaults({ outage: false });
    await admin('/devices');

    const all = (await admin('/calls')).body as CallEntry[];
    assert.deepEqual(
      all.map(({ method, path, action, iccids, status }) => ({ method, path, action, iccids, status })),
      [
        { method: 'GET', path: `/acme/lines/${iccidA}`, action: 'get_line', iccids: [iccidA], status: 200 },
        {
          method: 'POST',
          path: '/acme/activations',
          action: 'activate',
          iccids: [iccidA, iccidB],
          status: 202,
        },
        { method: 'POST', path: '/acme/activations', action: 'activate', iccids: [iccidB], status: 503 },
      ],
    );
    assert.ok(all.every((call) => !Number.isNaN(Date.parse(call.at))));
    const byIccid = (await admin(`/calls?iccid=${iccidB}`)).body as CallEntry[];
    assert.deepEqual(
      byIccid.map((call) => call.status),
      [202, 503],
    );
    assert.equal(((await admin(`/calls?iccid=${iccidA}&action=activate`)).body as CallEntry[]).length, 1);
    assert.equal(((await admin('/calls?action=activate&status=202')).body as CallEntry[]).length, 1);
    assert.equal(sim.calls.count({ iccid: iccidA, action: 'activate', status: 202 }), 1);
  });

  it('validates a fault patch and changes only the fields given', async () => {
    const bad = await admin('/faults', { method: 'PUT', body: { errorRate: 2, latncyMs: 5 } });
    assert.equal(bad.status, 400);
    const changed = await admin('/faults', { method: 'PUT', body: { latencyMs: 5, maxConcurrent: 3 } });
    assert.deepEqual(changed.body, {
      latencyMs: 5,
      errorRate: 0,
      rateLimitPerSecond: 1000,
      maxConcurrent: 3,
      outage: false,
      expireTokens: false,
      errorBurst: 0,
      dropAnswerRate: 0,
    });
    await setFaults({ rateLimitPerSecond: null });
    assert.equal(sim.faults.get().rateLimitPerSecond, null);
  });

  it('resets lines, calls, stats and faults to the defaults', async () => {
    await carrier(`/lines/${iccidA}`);
    await setFaults({ outage: true, rateLimitPerSecond: 2 });
    const reset = await admin('/reset', { method: 'POST' });
    assert.equal(reset.status, 204);
    assert.deepEqual((await admin('/devices')).body, []);
    assert.deepEqual((await admin('/calls')).body, []);
    assert.equal(((await admin('/faults')).body as { rateLimitPerSecond: number }).rateLimitPerSecond, 1000);
    assert.equal(sim.faults.get().outage, false);
    assert.deepEqual((await admin('/stats')).body, {
      requests: 0,
      rateLimited: 0,
      errorsInjected: 0,
      maxObservedConcurrency: 0,
      maxObservedRequestsPerSecond: 0,
    });
  });
});

describe('simulator kit (mounted under a prefix)', () => {
  it('works inside another app without its parsers or error handler', async () => {
    const sim = createAcmeSimulator();
    const parent = Fastify();
    parent.removeContentTypeParser('application/json');
    parent.addContentTypeParser('application/json', (_request, _body, done) =>
      done(new Error('parent parser')),
    );
    parent.setErrorHandler((_error, _request, reply) => reply.code(418).send({ parent: true }));
    parent.register(sim.plugin, { prefix: '/simulators/acme' });
    const base = `${await parent.listen({ port: 0, host: '127.0.0.1' })}/simulators/acme`;
    try {
      const seeded = await httpJson(`${base}/_sim/devices`, { method: 'POST', body: [{ iccid: iccidA }] });
      assert.equal(seeded.status, 200);
      const activated = await httpJson(`${base}/acme/activations`, {
        method: 'POST',
        body: { iccids: [iccidA] },
      });
      assert.equal(activated.status, 202);
      const malformed = await httpJson(`${base}/acme/activations`, { method: 'POST', body: '{' });
      assert.deepEqual([malformed.status, (malformed.body as { fault: string }).fault], [400, 'bad_request']);
      const calls = (await httpJson(`${base}/_sim/calls?iccid=${iccidA}`)).body as CallEntry[];
      assert.deepEqual(
        calls.map((call) => [call.path, call.status]),
        [[`/simulators/acme/acme/activations`, 202]],
      );
    } finally {
      await parent.close();
    }
  });
});
