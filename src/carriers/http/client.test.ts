import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AuditRecord } from '../../core/audit-record.ts';
import { CarrierError } from '../../core/carrier-error.ts';
import type { CallLimiter } from '../limits/call-limiter.ts';
import { Limiter } from '../limits/limiter.ts';
import { LocalCircuit } from '../limits/local-circuit.ts';
import { OutboundAddressPolicy } from './address-policy.ts';
import { outboundAgent } from './agent.ts';
import { parseRetryAfter } from './classify.ts';
import { CarrierHttpClient, type CarrierHttpClientOptions } from './client.ts';
import { REDACTED } from './redaction.ts';

interface Hit {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  at: number;
}

type Script = (hit: Hit, index: number, reply: FastifyReply) => unknown;

/** A limiter that remembers its pauses. */
class RecordingLimiter extends Limiter {
  readonly pauses: number[] = [];
  override pauseFor(ms: number): void {
    this.pauses.push(ms);
    super.pauseFor(ms);
  }
}

const app = Fastify({ logger: false });
let baseUrl = '';
let hits: Hit[] = [];
let script: Script = () => ({});

app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) =>
  done(null, Object.fromEntries(new URLSearchParams(String(body)))),
);
app.all('/*', async (request: FastifyRequest, reply: FastifyReply) => {
  const hit: Hit = {
    method: request.method,
    url: request.url,
    headers: request.headers,
    body: request.body,
    at: Date.now(),
  };
  hits.push(hit);
  return script(hit, hits.length - 1, reply);
});

const audits = () => {
  const records: AuditRecord[] = [];
  return { records, audit: (entry: AuditRecord) => records.push(entry) };
};

/** The test carrier listens on loopback, which the default policy refuses. */
const agent = outboundAgent(new OutboundAddressPolicy(['127.0.0.1']));

const client = (overrides: Partial<CarrierHttpClientOptions> = {}) =>
  new CarrierHttpClient({
    system: 'testcarrier',
    baseUrl: `${baseUrl}/api/v1/`,
    headers: () => ({ Authorization: 'Bearer s3cr3t-T0ken.value' }),
    limiter: new Limiter({ requestsPerSecond: null, maxConcurrent: 4 }),
    dispatcher: agent,
    circuit: new LocalCircuit({ consecutiveFailures: 5, halfOpenAfterMs: 30_000 }),
    timeoutMs: 2_000,
    parseError: (_status, body) => {
      const envelope = z.object({ errorCode: z.string(), errorMessage: z.string() }).safeParse(body);
      return envelope.success
        ? { code: envelope.data.errorCode, message: envelope.data.errorMessage }
        : undefined;
    },
    ...overrides,
  });

const isCarrierError = (check: (error: CarrierError) => void) => (error: unknown) => {
  assert.ok(error instanceof CarrierError, `expected a CarrierError, got ${String(error)}`);
  check(error);
  return true;
};

describe('CarrierHttpClient', () => {
  before(async () => {
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    assert.ok(address && typeof address === 'object');
    baseUrl = `http://127.0.0.1:${address.port}`;
  });
  after(async () => {
    await agent.close();
    await app.close();
  });
  beforeEach(() => {
    hits = [];
    script = () => ({});
  });

  it('sends a call, validates the response and leaves one audit record', async () => {
    script = () => ({ id: 'd1', status: 'ACTIVATED' });
    const { records, audit } = audits();
    const limiter = new Limiter({ requestsPerSecond: 50, maxConcurrent: 1 });
    const response = await client({ limiter }).send(
      {
        action: 'device.get',
        method: 'GET',
        path: '/devices/d1',
        query: { fields: ['a', 'b'], page: 2, skip: undefined },
        responseSchema: z.object({ id: z.string(), status: z.string() }),
      },
      { audit },
    );
    assert.equal(response.status, 200);
    assert.deepEqual(response.body, { id: 'd1', status: 'ACTIVATED' });
    assert.match(String(response.headers['content-type']), /application\/json/);
    assert.equal(hits.length, 1);
    assert.equal(hits[0].url, '/api/v1/devices/d1?fields=a&fields=b&page=2');
    assert.equal(hits[0].headers.authorization, 'Bearer s3cr3t-T0ken.value');
    assert.equal(records.length, 1);
    const [record] = records;
    assert.equal(record.action, 'device.get');
    assert.equal(record.system, 'testcarrier');
    assert.equal(record.method, 'GET');
    assert.equal(record.url, `${baseUrl}/api/v1/devices/d1?fields=a&fields=b&page=2`);
    assert.equal(record.request.headers.Authorization, REDACTED);
    assert.equal(record.request.body, null);
    assert.deepEqual(record.response, { id: 'd1', status: 'ACTIVATED' });
    assert.equal(record.httpStatus, 200);
    assert.equal(record.outcome, 'success');
    assert.equal(record.error, undefined);
    assert.equal(record.attempt, 1);
    assert.ok(record.durationMs >= 0 && record.durationMs < 2000);
    assert.ok(Math.abs(record.at - Date.now()) < 5000);
    assert.equal(limiter.stats().started, 1);
  });

  it('retries a 500 and succeeds: two audit records, both through the limiter', async () => {
    script = (_hit, index, reply) =>
      index === 0 ? reply.code(500).send({ errorCode: 'E500', errorMessage: 'oops' }) : { ok: true };
    const { records, audit } = audits();
    const limiter = new Limiter({ requestsPerSecond: null, maxConcurrent: 1 });
    const response = await client({ limiter }).send(
      { action: 'device.update', method: 'PUT', path: 'devices/d1', body: { status: 'ACTIVATED' } },
      { audit },
    );
    assert.deepEqual(response.body, { ok: true });
    assert.equal(hits.length, 2);
    assert.deepEqual(hits[1].body, { status: 'ACTIVATED' });
    assert.match(String(hits[1].headers['content-type']), /^application\/json/);
    assert.deepEqual(
      records.map((r) => [r.attempt, r.httpStatus, r.outcome, r.carrierCode]),
      [
        [1, 500, 'transient', 'E500'],
        [2, 200, 'success', undefined],
      ],
    );
    assert.match(records[0].error ?? '', /HTTP 500 E500: oops/);
    assert.deepEqual(records[0].request.body, { status: 'ACTIVATED' });
    assert.equal(limiter.stats().started, 2);
  });

  it('gives up after `retries` short retries with the last transient error', async () => {
    script = (_hit, _index, reply) => reply.code(502).send('bad gateway');
    const { records, audit } = audits();
    await assert.rejects(
      client({ retries: 2 }).send({ action: 'device.get', method: 'GET', path: '/devices/d1' }, { audit }),
      isCarrierError((error) => {
        assert.equal(error.kind, 'transient');
        assert.equal(error.httpStatus, 502);
        assert.match(error.message, /HTTP 502: bad gateway/);
      }),
    );
    assert.equal(hits.length, 3);
    assert.equal(records.length, 3);
  });

  it('429 with Retry-After: 1 pauses the limiter and retries after ≥ 1 s (even a POST)', async () => {
    script = (_hit, index, reply) =>
      index === 0
        ? reply.code(429).header('retry-after', '1').send({ errorCode: 'RATE', errorMessage: 'slow down' })
        : reply.code(201).send({ requestId: 'r1' });
    const { records, audit } = audits();
    const limiter = new RecordingLimiter({ requestsPerSecond: null, maxConcurrent: 2 });
    const t0 = Date.now();
    const response = await client({ limiter }).send(
      { action: 'device.activate', method: 'POST', path: '/devices/actions/activate', body: { iccid: '1' } },
      { audit },
    );
    assert.equal(response.status, 201);
    assert.deepEqual(response.body, { requestId: 'r1' });
    assert.deepEqual(limiter.pauses, [1000]);
    assert.equal(hits.length, 2);
    assert.ok(hits[1].at - hits[0].at >= 1000, `retried after ${hits[1].at - hits[0].at} ms`);
    assert.ok(Date.now() - t0 >= 1000);
    assert.deepEqual(
      records.map((r) => [r.httpStatus, r.outcome]),
      [
        [429, 'transient'],
        [201, 'success'],
      ],
    );
  });

  it('a Retry-After longer than maxRetryWaitMs is thrown for the queue, not waited for', async () => {
    script = (_hit, _index, reply) => reply.code(503).header('retry-after', '120').send('');
    const { records, audit } = audits();
    const limiter = new RecordingLimiter({ requestsPerSecond: null, maxConcurrent: 1 });
    await assert.rejects(
      client({ limiter }).send({ action: 'device.get', method: 'GET', path: '/x' }, { audit }),
      isCarrierError((error) => {
        assert.equal(error.kind, 'transient');
        assert.equal(error.retryAfterMs, 120_000);
      }),
    );
    assert.equal(records.length, 1);
    assert.deepEqual(limiter.pauses, [120_000]);
    assert.ok((limiter.stats().pausedUntil ?? 0) > Date.now() + 100_000);
  });

  it('401 is auth and never retried', async () => {
    script = (_hit, _index, reply) =>
      reply.code(401).send({ errorCode: 'UNAUTHORIZED', errorMessage: 'bad token' });
    const { records, audit } = audits();
    await assert.rejects(
      client().send({ action: 'device.get', method: 'GET', path: '/devices/d1' }, { audit }),
      isCarrierError((error) => {
        assert.equal(error.kind, 'auth');
        assert.equal(error.httpStatus, 401);
        assert.equal(error.carrierCode, 'UNAUTHORIZED');
      }),
    );
    assert.equal(hits.length, 1);
    assert.deepEqual(
      records.map((r) => r.outcome),
      ['auth'],
    );
  });

  it('400 with an envelope is rejected with the carrier code; classify can make it a rule', async () => {
    script = (hit, _index, reply) =>
      reply
        .code(400)
        .send(
          hit.url.endsWith('/limit')
            ? { errorCode: 'DAILY_LIMIT', errorMessage: '5 provisioning actions per day' }
            : { errorCode: 'INVALID_ICCID', errorMessage: 'ICCID unknown' },
        );
    const { records, audit } = audits();
    const c = client({
      classify: (_status, _body, parsed) => (parsed.code === 'DAILY_LIMIT' ? 'rule' : undefined),
    });
    await assert.rejects(
      c.send({ action: 'device.update', method: 'PUT', path: '/devices/bad' }, { audit }),
      isCarrierError((error) => {
        assert.equal(error.kind, 'rejected');
        assert.equal(error.httpStatus, 400);
        assert.equal(error.carrierCode, 'INVALID_ICCID');
        assert.match(error.message, /ICCID unknown/);
      }),
    );
    await assert.rejects(
      c.send({ action: 'device.update', method: 'PUT', path: '/devices/limit' }, { audit }),
      isCarrierError((error) => {
        assert.equal(error.kind, 'rule');
        assert.equal(error.carrierCode, 'DAILY_LIMIT');
      }),
    );
    assert.equal(hits.length, 2);
    assert.deepEqual(
      records.map((r) => [r.outcome, r.carrierCode]),
      [
        ['rejected', 'INVALID_ICCID'],
        ['rule', 'DAILY_LIMIT'],
      ],
    );
    assert.deepEqual(records[0].response, { errorCode: 'INVALID_ICCID', errorMessage: 'ICCID unknown' });
  });

  it('a timeout is transient; an idempotent call is retried, a POST is not', async () => {
    script = async () => {
      await delay(400);
      return { late: true };
    };
    const { records, audit } = audits();
    await assert.rejects(
      client({ timeoutMs: 100, retries: 1 }).send(
        { action: 'device.get', method: 'GET', path: '/slow' },
        { audit },
      ),
      isCarrierError((error) => {
        assert.equal(error.kind, 'transient');
        assert.equal(error.carrierCode, 'TIMEOUT');
        assert.equal(error.httpStatus, undefined);
      }),
    );
    assert.deepEqual(
      records.map((r) => [r.httpStatus, r.outcome, r.carrierCode, r.response]),
      [
        [null, 'transient', 'TIMEOUT', null],
        [null, 'transient', 'TIMEOUT', null],
      ],
    );
    const post = audits();
    await assert.rejects(
      client({ timeoutMs: 100, retries: 2 }).send(
        { action: 'device.activate', method: 'POST', path: '/slow', body: {} },
        { audit: post.audit },
      ),
      isCarrierError((error) => assert.equal(error.carrierCode, 'TIMEOUT')),
    );
    assert.equal(post.records.length, 1, 'a POST that may have been applied is not re-sent');
  });

  it('a refused connection is transient and retried', async () => {
    const { records, audit } = audits();
    const closed = Fastify();
    await closed.listen({ port: 0, host: '127.0.0.1' });
    const address = closed.server.address();
    assert.ok(address && typeof address === 'object');
    await closed.close();
    await assert.rejects(
      client({ baseUrl: `http://127.0.0.1:${address.port}`, retries: 1 }).send(
        { action: 'device.activate', method: 'POST', path: '/x', body: {} },
        { audit },
      ),
      isCarrierError((error) => {
        assert.equal(error.kind, 'transient');
        assert.equal(error.carrierCode, 'NETWORK_ERROR');
        assert.match(error.message, /ECONNREFUSED/);
      }),
    );
    assert.equal(records.length, 2, 'never reached the carrier, so safe to re-send');
  });

  it('the breaker opens after N consecutive failures, fails fast, then half-opens and closes', async () => {
    let healthy = false;
    script = (_hit, _index, reply) => (healthy ? { ok: true } : reply.code(500).send('down'));
    const { records, audit } = audits();
    const c = client({
      retries: 0,
      circuit: new LocalCircuit({ consecutiveFailures: 3, halfOpenAfterMs: 300 }),
    });
    const call = { action: 'device.get', method: 'GET', path: '/x' } as const;
    assert.equal(c.breakerState(), 'closed');
    for (let i = 0; i < 3; i++) {
      await assert.rejects(
        c.send(call, { audit }),
        isCarrierError((error) => assert.equal(error.httpStatus, 500)),
      );
    }
    assert.equal(c.breakerState(), 'open');
    const t0 = performance.now();
    await assert.rejects(
      c.send(call, { audit }),
      isCarrierError((error) => {
        assert.equal(error.kind, 'transient');
        assert.equal(error.carrierCode, 'CIRCUIT_OPEN');
        assert.ok((error.retryAfterMs ?? 0) > 0 && (error.retryAfterMs ?? 0) <= 300, `${error.retryAfterMs}`);
      }),
    );
    assert.ok(performance.now() - t0 < 50, 'fails fast');
    assert.equal(hits.length, 3, 'no HTTP request while open');
    assert.equal(records.length, 3, 'no audit record while open');
    await delay(320);
    assert.equal(c.breakerState(), 'half_open');
    healthy = true;
    assert.deepEqual((await c.send(call, { audit })).body, { ok: true });
    assert.equal(c.breakerState(), 'closed');
  });

  it('rejections do not open the breaker', async () => {
    script = (_hit, _index, reply) =>
      reply.code(404).send({ errorCode: 'NOT_FOUND', errorMessage: 'no such line' });
    const c = client({
      retries: 0,
      circuit: new LocalCircuit({ consecutiveFailures: 2, halfOpenAfterMs: 10_000 }),
    });
    for (let i = 0; i < 4; i++) {
      await assert.rejects(
        c.send({ action: 'device.get', method: 'GET', path: '/x' }, { audit: () => {} }),
        isCarrierError((error) => assert.equal(error.kind, 'rejected')),
      );
    }
    assert.equal(c.breakerState(), 'closed');
    assert.equal(hits.length, 4);
  });

  it('redacts the Authorization header, a password in the body and tokens in the response', async () => {
    script = () => ({ access_token: 'at-123456789', token_type: 'bearer', expires_in: 3600 });
    const { records, audit } = audits();
    const response = await client().send(
      {
        action: 'auth.login',
        method: 'POST',
        path: '/session/login',
        body: { username: 'svc-user', password: 'P@ssw0rd!' },
        headers: { 'X-Trace': 'abc' },
      },
      { audit },
    );
    // The carrier and the caller see the real values …
    assert.deepEqual(hits[0].body, { username: 'svc-user', password: 'P@ssw0rd!' });
    assert.equal(hits[0].headers['x-trace'], 'abc');
    assert.deepEqual(response.body, { access_token: 'at-123456789', token_type: 'bearer', expires_in: 3600 });
    // … the audit record does not.
    const [record] = records;
    assert.equal(record.request.headers.Authorization, REDACTED);
    assert.equal(record.request.headers['X-Trace'], 'abc');
    assert.deepEqual(record.request.body, { username: 'svc-user', password: REDACTED });
    // Key-based, so `token_type` goes too: over-redacting beats leaking.
    assert.deepEqual(record.response, { access_token: REDACTED, token_type: REDACTED, expires_in: 3600 });
    const serialized = JSON.stringify(records);
    assert.ok(
      !serialized.includes('P@ssw0rd!') && !serialized.includes('s3cr3t') && !serialized.includes('at-123'),
    );
  });

  it('sends URLSearchParams form-encoded and redacts it in the audit', async () => {
    script = () => ({ ok: true });
    const { records, audit } = audits();
    await client().send(
      {
        action: 'auth.token',
        method: 'POST',
        path: '/oauth2/token',
        body: new URLSearchParams({ grant_type: 'client_credentials', client_secret: 'cs-1' }),
      },
      { audit },
    );
    assert.match(String(hits[0].headers['content-type']), /^application\/x-www-form-urlencoded/);
    assert.deepEqual(hits[0].body, { grant_type: 'client_credentials', client_secret: 'cs-1' });
    assert.deepEqual(records[0].request.body, { grant_type: 'client_credentials', client_secret: REDACTED });
  });

  it('a 2xx body that fails responseSchema is rejected with BAD_RESPONSE (not retried)', async () => {
    script = () => ({ id: 42 });
    const { records, audit } = audits();
    await assert.rejects(
      client().send(
        {
          action: 'device.get',
          method: 'GET',
          path: '/devices/d1',
          responseSchema: z.object({ id: z.string() }),
        },
        { audit },
      ),
      isCarrierError((error) => {
        assert.equal(error.kind, 'rejected');
        assert.equal(error.carrierCode, 'BAD_RESPONSE');
        assert.equal(error.httpStatus, 200);
        assert.match(error.message, /id/);
      }),
    );
    assert.equal(hits.length, 1);
    assert.deepEqual(
      records.map((r) => [r.httpStatus, r.outcome, r.carrierCode]),
      [[200, 'rejected', 'BAD_RESPONSE']],
    );
  });

  it('tolerates empty bodies and returns text for non-JSON responses', async () => {
    script = (hit, _index, reply) =>
      hit.url.endsWith('/empty') ? reply.code(204).send() : reply.type('text/plain').send('plain text');
    const c = client();
    const empty = await c.send({ action: 'a', method: 'DELETE', path: '/empty' }, { audit: () => {} });
    assert.equal(empty.status, 204);
    assert.equal(empty.body, null);
    const text = await c.send({ action: 'a', method: 'GET', path: '/text' }, { audit: () => {} });
    assert.equal(text.body, 'plain text');
  });

  it('tells the limiter when each request leaves, before its answer, once per attempt', async () => {
    script = async () => {
      await delay(30);
      return {};
    };
    const events: string[] = [];
    const recording: CallLimiter = {
      schedule: (fn) =>
        fn({
          sending: () => {
            events.push('sending');
            return true;
          },
          sent: () => void events.push('sent'),
        }).then((result) => {
          events.push('answered');
          return result;
        }),
      pauseFor: () => {},
    };
    await client({ limiter: recording }).send(
      { action: 'a', method: 'PUT', path: '/x', body: { a: 1 } },
      { audit: () => {} },
    );
    assert.deepEqual(events, ['sending', 'sent', 'answered']);
  });

  it('a request whose slot has passed when it is written is stopped before its first byte, and retried', async () => {
    script = () => ({ ok: true });
    let refusals = 1;
    const strict: CallLimiter = {
      schedule: (fn) => fn({ sending: () => refusals-- <= 0, sent: () => {} }),
      pauseFor: () => {},
    };
    const { records, audit } = audits();
    // POST: not idempotent, so the retry proves the first attempt is known never to have been sent.
    const response = await client({ limiter: strict }).send(
      { action: 'a', method: 'POST', path: '/x', body: {} },
      { audit },
    );
    assert.deepEqual(response.body, { ok: true });
    assert.equal(hits.length, 1, 'only the second attempt reached the carrier');
    assert.deepEqual(
      records.map((r) => [r.httpStatus, r.carrierCode ?? null]),
      [
        [null, 'NETWORK_ERROR'],
        [200, null],
      ],
    );
  });

  it('an abort while waiting for the limiter rejects with the reason, without a request or audit record', async () => {
    script = async () => {
      await delay(200);
      return {};
    };
    const limiter = new Limiter({ requestsPerSecond: null, maxConcurrent: 1 });
    const c = client({ limiter });
    const { records, audit } = audits();
    const first = c.send({ action: 'a', method: 'GET', path: '/slow' }, { audit });
    const controller = new AbortController();
    const second = c.send(
      { action: 'b', method: 'GET', path: '/slow' },
      { audit, signal: controller.signal },
    );
    await delay(30);
    const reason = new Error('bulk change cancelled');
    controller.abort(reason);
    await assert.rejects(second, (error) => error === reason);
    await first;
    assert.equal(hits.length, 1);
    assert.deepEqual(
      records.map((r) => r.action),
      ['a'],
    );
  });

  it('an abort during a request still leaves its audit record, then rejects with the reason', async () => {
    script = async () => {
      await delay(300);
      return {};
    };
    const { records, audit } = audits();
    const controller = new AbortController();
    const reason = new Error('stop');
    setTimeout(() => controller.abort(reason), 50);
    await assert.rejects(
      client().send({ action: 'a', method: 'GET', path: '/slow' }, { audit, signal: controller.signal }),
      (error) => error === reason,
    );
    assert.deepEqual(
      records.map((r) => [r.httpStatus, r.outcome]),
      [[null, 'transient']],
    );
    assert.match(records[0].error ?? '', /aborted by caller/);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP-dates', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('1', now), 1000);
    assert.equal(parseRetryAfter(' 2.5 ', now), 2500);
    assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now), 30_000);
    assert.equal(parseRetryAfter('Wed, 31 Dec 2025 23:59:00 GMT', now), 0);
    assert.equal(parseRetryAfter(['3'], now), 3000);
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter(undefined, now), undefined);
    assert.equal(parseRetryAfter('999999999', now), 60 * 60 * 1000);
  });
});
