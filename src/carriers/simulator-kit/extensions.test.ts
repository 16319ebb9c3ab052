import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import Fastify from 'fastify';
import { z } from 'zod';
import { CarrierFaults } from './carrier-faults.ts';
import { DeviceStore } from './device-store.ts';
import { createSimulatorServer, type SimulatorServer } from './simulator.ts';
import { httpJson } from './test-client.ts';

interface Line {
  iccid: string;
  state: string;
}

/** A carrier using every optional extension of the definition. */
const createCarrier = () => {
  const store = new DeviceStore<Line>();
  const carrierFaults = new CarrierFaults(
    { webhooks: true },
    z.strictObject({ webhooks: z.boolean().optional() }),
  );
  let resets = 0;
  let closes = 0;
  const sim = createSimulatorServer({
    store,
    routes: [
      {
        method: 'POST',
        url: '/oauth/token',
        action: 'token',
        iccids: () => [],
        handle: (request) => ({ status: 200, body: { received: request.body } }),
      },
    ],
    defaultFaults: {},
    seedSchema: z.object({ iccid: z.string(), state: z.string().default('new') }),
    fromSeed: (seed) => seed,
    errorEnvelope: (failure) => ({
      fault: failure.kind,
      waitSeconds: failure.kind === 'rate_limited' ? failure.retryAfterSeconds : null,
    }),
    retryAfterHeader: false,
    adminRoutes: [
      {
        method: 'GET',
        url: '/webhooks/:name',
        handle: (request) => ({
          status: 200,
          body: { name: request.params.name, on: carrierFaults.get().webhooks },
        }),
      },
    ],
    extraFaults: carrierFaults.extension(),
    onReset: () => {
      resets += 1;
    },
    onClose: () => {
      closes += 1;
    },
    contentTypeParsers: {
      'application/x-www-form-urlencoded': (body) => Object.fromEntries(new URLSearchParams(body)),
    },
  });
  return { sim, resets: () => resets, closes: () => closes };
};

describe('simulator kit extensions', () => {
  let sim: SimulatorServer<Line>;
  afterEach(() => sim.close());

  it('parses extra content types, serves extra admin routes and merges carrier faults', async () => {
    const carrier = createCarrier();
    sim = carrier.sim;
    const base = await sim.listen();
    const token = await httpJson(`${base}/oauth/token`, {
      method: 'POST',
      body: 'grant_type=client_credentials&scope=a',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.deepEqual(token.body, { received: { grant_type: 'client_credentials', scope: 'a' } });

    const faults = await httpJson(`${base}/_sim/faults`, {
      method: 'PUT',
      body: { webhooks: false, latencyMs: 1 },
    });
    assert.deepEqual(
      [(faults.body as { webhooks: boolean }).webhooks, (faults.body as { latencyMs: number }).latencyMs],
      [false, 1],
    );
    assert.equal(sim.faults.get().latencyMs, 1);
    assert.equal(
      (await httpJson(`${base}/_sim/faults`, { method: 'PUT', body: { webhook: true } })).status,
      400,
    );
    assert.deepEqual((await httpJson(`${base}/_sim/webhooks/carrier`)).body, { name: 'carrier', on: false });

    assert.equal((await httpJson(`${base}/_sim/reset`, { method: 'POST' })).status, 204);
    assert.equal(carrier.resets(), 1);
    assert.equal(((await httpJson(`${base}/_sim/faults`)).body as { webhooks: boolean }).webhooks, true);
    sim.reset();
    assert.equal(carrier.resets(), 2, 'the server reset calls it too');
  });

  it('tells the wait of a 429 only in the envelope when the carrier sends no Retry-After', async () => {
    sim = createCarrier().sim;
    const base = await sim.listen();
    const token = () => httpJson(`${base}/oauth/token`, { method: 'POST', body: {} });
    for (const [rateLimitPerSecond, waitSeconds] of [
      [1, 1],
      [0.25, 4],
    ]) {
      await httpJson(`${base}/_sim/faults`, { method: 'PUT', body: { rateLimitPerSecond } });
      assert.equal((await token()).status, 200);
      const throttled = await token();
      assert.deepEqual([throttled.status, throttled.body], [429, { fault: 'rate_limited', waitSeconds }]);
      assert.equal(throttled.headers.get('retry-after'), null);
    }
  });

  it('tells the carrier when it closes, standalone or with the app it is mounted in', async () => {
    const standalone = createCarrier();
    sim = standalone.sim;
    await sim.listen();
    assert.equal(standalone.closes(), 0);
    await sim.close();
    assert.ok(standalone.closes() > 0, 'a standalone close');

    const mounted = createCarrier();
    sim = mounted.sim;
    const parent = Fastify();
    await parent.register(sim.plugin, { prefix: '/simulators/carrier' });
    await parent.ready();
    assert.equal(mounted.closes(), 0);
    await parent.close();
    assert.ok(mounted.closes() > 0, "the mounting app's close");
  });

  it('deletes a line from the store', () => {
    const store = new DeviceStore<Line>();
    store.put({ iccid: '1', state: 'a' });
    assert.equal(store.delete('1'), true);
    assert.equal(store.delete('1'), false);
    assert.equal(store.size, 0);
    sim = createCarrier().sim;
  });
});
