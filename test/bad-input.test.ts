import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createRevioSimulator } from '../src/billing/revio/simulator/simulator.ts';
import { revioConnection } from './support/billing-connection.ts';
import { testDialects } from './support/databases.ts';
import { type ApiResponse, jasperFixture, startTestService, type TestService } from './support/service.ts';

type ErrorAnswer = {
  error: { code: string; message: string; details: Array<{ field?: string; code: string }> };
};

/** The documented error shape (API.md §1): nothing else leaves the API as an error. */
function assertErrorShape(response: ApiResponse<unknown>, status: number, code?: string) {
  assert.equal(response.status, status, response.text);
  const body = response.body as ErrorAnswer;
  assert.equal(typeof body.error?.code, 'string', response.text);
  assert.equal(typeof body.error.message, 'string');
  assert.ok(Array.isArray(body.error.details));
  assert.deepEqual(Object.keys(body), ['error']);
  if (code) assert.equal(body.error.code, code, response.text);
}

/**
 * Sends bytes as they are and reads the answer's status line and body (for what fetch refuses to send).
 * With `keepOpen` the connection stays open after the request, as a client still sending would: the
 * answer is read as soon as it comes.
 */
function rawExchange(
  url: string,
  request: string | Buffer,
  options: { keepOpen?: boolean } = {},
): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const chunks: Buffer[] = [];
    const answer = () => {
      const text = Buffer.concat(chunks).toString('utf8');
      return {
        status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0),
        body: text.split('\r\n\r\n')[1] ?? '',
      };
    };
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      if (options.keepOpen && Buffer.concat(chunks).includes('\r\n\r\n')) {
        resolve(answer());
        socket.destroy();
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(answer()));
    if (options.keepOpen) socket.write(request);
    else socket.end(request);
  });
}

const multipart = (boundary: string, parts: string[]) =>
  `${parts.map((part) => `--${boundary}\r\n${part}\r\n`).join('')}--${boundary}--\r\n`;
const field = (name: string, value: string) =>
  `Content-Disposition: form-data; name="${name}"\r\n\r\n${value}`;
const file = (name: string, content: string) =>
  `Content-Disposition: form-data; name="${name}"; filename="lines.csv"\r\nContent-Type: text/csv\r\n\r\n${content}`;

for (const dialect of testDialects) {
  describe(`bad input is a 4xx in the documented shape on ${dialect}`, () => {
    let test: TestService;
    let accountId: string;
    let iccids: string[];
    before(async () => {
      test = await startTestService(dialect);
      ({ accountId, iccids } = await jasperFixture(test, { count: 3, prefix: '8901401' }));
    });
    after(() => test.stop());

    const bulkJson = (extra: Record<string, unknown>) => ({
      carrierAccountId: accountId,
      changeType: 'status_update',
      options: { targetStatus: 'active' },
      changes: iccids.map((iccid) => ({ iccid })),
      dryRun: true,
      ...extra,
    });

    it('refuses a NUL character anywhere before the database sees it', async () => {
      const cases: Array<[string, string, unknown, string?]> = [
        ['GET', '/api/v1/bulk-changes/ab%00cd', undefined],
        ['GET', `/api/v1/carrier-accounts/${accountId}%00`, undefined],
        ['GET', '/api/v1/devices?iccid=a%00b', undefined],
        ['GET', '/api/v1/bulk-changes?carrierAccountId=%00', undefined],
        ['POST', '/api/v1/bulk-changes', bulkJson({ carrierAccountId: 'a\u0000b' })],
        [
          'POST',
          '/api/v1/bulk-changes',
          bulkJson({ options: { targetStatus: 'active', username: 'x\u0000' } }),
        ],
        ['POST', '/api/v1/bulk-changes', bulkJson({ changes: [{ iccid: iccids[0], 'k\u0000': 'v' }] })],
        [
          'POST',
          '/api/v1/carrier-accounts',
          { name: 'a\u0000b', carrier: 'jasper', baseUrl: 'https://example.com', credentials: {} },
        ],
        ['POST', '/api/v1/customer-pools', { items: [{ id: 'p\u0000', name: 'pool' }] }],
        ['POST', '/callbacks/thingspace/x%00y', {}],
      ];
      for (const [method, path, body] of cases) {
        const answer = await test.api(method, path, { body });
        assertErrorShape(answer, 422, 'VALIDATION_FAILED');
        assert.equal(
          (answer.body as ErrorAnswer).error.details[0].code,
          'INVALID_CHARACTER',
          `${method} ${path}`,
        );
      }
      const csv = await test.api(
        'POST',
        `/api/v1/bulk-changes?carrierAccountId=${accountId}&changeType=status_update&targetStatus=active`,
        {
          body: `iccid\n${iccids[0]}\u0000\n`,
          contentType: 'text/csv',
        },
      );
      assertErrorShape(csv, 422, 'INVALID_CSV');
      const boundary = 'nulboundary';
      const form = await test.api('POST', '/api/v1/bulk-changes', {
        body: multipart(boundary, [
          field('carrierAccountId', accountId),
          field('changeType', 'status_update'),
          field('targetStatus', 'act\u0000ive'),
          file('file', `iccid\n${iccids[0]}\n`),
        ]),
        contentType: `multipart/form-data; boundary=${boundary}`,
      });
      assertErrorShape(form, 422, 'VALIDATION_FAILED');
    });

    it('answers malformed multipart bodies with a 4xx, never a 500', async () => {
      const boundary = 'XyZ123';
      const csv = `iccid\n${iccids[0]}\n`;
      const fields = [
        field('carrierAccountId', accountId),
        field('changeType', 'status_update'),
        field('targetStatus', 'active'),
        field('dryRun', 'true'),
      ];
      const cases: Array<[string, string, number, string?]> = [
        ['no boundary', multipart(boundary, [...fields, file('file', csv)]), 400],
        ['truncated', multipart(boundary, [...fields, file('file', csv)]).slice(0, -20), 422, undefined],
        ['garbage', 'this is not multipart at all', 400],
        [
          'part without disposition',
          `--${boundary}\r\nContent-Type: text/plain\r\n\r\nx\r\n--${boundary}--\r\n`,
          422,
        ],
        [
          'two files',
          multipart(boundary, [...fields, file('file', csv), file('file', csv)]),
          422,
          'UNEXPECTED_PART',
        ],
        [
          'a field after the file',
          multipart(boundary, [...fields, file('file', csv), field('dryRun', 'false')]),
          422,
          'UNEXPECTED_PART',
        ],
        [
          'file part with another name',
          multipart(boundary, [...fields, file('upload', csv)]),
          422,
          'UNKNOWN_FIELD',
        ],
        ['no file', multipart(boundary, fields), 422, 'REQUIRED'],
        [
          'binary file',
          multipart(boundary, [...fields, file('file', '\u00ff\u00fe\u0000i\u0000c')]),
          422,
          undefined,
        ],
      ];
      for (const [name, body, status, detail] of cases) {
        const contentType =
          name === 'no boundary' ? 'multipart/form-data' : `multipart/form-data; boundary=${boundary}`;
        const answer = await test.api('POST', '/api/v1/bulk-changes', { body, contentType });
        assert.ok(answer.status >= 400 && answer.status < 500, `${name}: ${answer.status} ${answer.text}`);
        assertErrorShape(answer, answer.status);
        if (name !== 'part without disposition' && name !== 'binary file')
          assert.equal(answer.status, status, `${name}: ${answer.text}`);
        if (detail) assert.equal((answer.body as ErrorAnswer).error.details[0]?.code, detail, name);
      }
      // Nothing of the refused requests was created.
      const list = await test.api<{ items: unknown[] }>(
        'GET',
        `/api/v1/bulk-changes?carrierAccountId=${accountId}`,
      );
      assert.equal(list.body.items.length, 0);
    });

    it("answers the portal's malformed uploads with a 4xx page, never a 500", async () => {
      const form = await fetch(`${test.url}/portal/sign-in`);
      const token = /name="_csrf" value="([^"]+)"/.exec(await form.text())![1];
      const signInCookie = form.headers.getSetCookie()[0].split(';')[0];
      const signedIn = await fetch(`${test.url}/portal/sign-in`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: signInCookie },
        body: new URLSearchParams({ apiKey: test.adminKey, _csrf: token }).toString(),
      });
      const cookie = signedIn.headers.getSetCookie()[0].split(';')[0];
      const boundary = 'portalboundary';
      const emptyFile = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename=""\r\nContent-Type: text/csv\r\n\r\niccid\n1\n`;
      for (const body of [
        emptyFile,
        `${emptyFile}\r\n--${boundary}--\r\n`.replace('filename=""', 'filename="a.csv"').slice(0, -30),
        'not multipart',
        `--${boundary}\r\nBroken\r\n\r\nx\r\n--${boundary}--\r\n`,
      ]) {
        const answer = await fetch(`${test.url}/portal/bulk-changes/preview`, {
          method: 'POST',
          headers: { cookie, 'content-type': `multipart/form-data; boundary=${boundary}` },
          body,
        });
        assert.ok(
          answer.status >= 400 && answer.status < 500,
          `${answer.status} for ${JSON.stringify(body)}`,
        );
        assert.match(answer.headers.get('content-type') ?? '', /^text\/html/);
      }
    });

    it('refuses a malformed session cookie as signed out, on every portal page', async () => {
      for (const cookie of [
        'bulkchange_session=%E0%A4%A',
        'bulkchange_session=%',
        'bulkchange_session=a%00b',
        'bulkchange_session',
      ]) {
        for (const path of [
          '/portal/bulk-changes',
          '/portal/bulk-changes/new',
          '/portal/devices',
          '/portal/carrier-accounts',
          '/portal/bulk-changes/x',
          '/portal/devices/x',
        ]) {
          const answer = await fetch(test.url + path, { headers: { cookie }, redirect: 'manual' });
          assert.ok([303, 422].includes(answer.status), `${path} ${cookie}: ${answer.status}`);
          if (answer.status === 303) assert.match(answer.headers.get('location') ?? '', /^\/portal\/sign-in/);
        }
        const signIn = await fetch(`${test.url}/portal/sign-in`, { headers: { cookie } });
        assert.equal(signIn.status, 200);
        const post = await fetch(`${test.url}/portal/sign-out`, {
          method: 'POST',
          headers: { cookie },
          redirect: 'manual',
        });
        assert.ok(post.status >= 300 && post.status < 500, `sign-out ${cookie}: ${post.status}`);
      }
    });

    it('refuses out-of-range limits, catalog numbers and cursors past their columns, and schedules a lenient parser reads as a year', async () => {
      for (const requestsPerSecond of [1e-300, 0, -1, 1e300]) {
        const created = await test.api('POST', '/api/v1/carrier-accounts', {
          body: {
            name: `rps ${requestsPerSecond}`,
            carrier: 'jasper',
            baseUrl: 'http://127.0.0.1:9',
            credentials: { username: 'a', apiKey: 'b' },
            settings: { limits: { requestsPerSecond } },
          },
        });
        assertErrorShape(created, 422, 'VALIDATION_FAILED');
        assert.equal((created.body as ErrorAnswer).error.details[0].code, 'INVALID_LIMITS');
      }
      const { body: created } = await test.api<{ id: string }>('POST', '/api/v1/bulk-changes', {
        body: bulkJson({ dryRun: false }),
      });
      for (const path of ['changes', 'log']) {
        const answer = await test.api(
          'GET',
          `/api/v1/bulk-changes/${created.id}/${path}?cursor=99999999999999999999999`,
        );
        assertErrorShape(answer, 422, 'VALIDATION_FAILED');
      }
      // Past a bigint: PostgreSQL would refuse the comparison (a 500) if the cursor reached the query.
      for (const path of ['/api/v1/audit', `/api/v1/devices/${'8901'.padEnd(19, '0')}/history`]) {
        const answer = await test.api('GET', `${path}?cursor=9223372036854775808`);
        assertErrorShape(answer, 422, 'VALIDATION_FAILED');
      }
      for (const item of [
        { id: 'POOL-X', name: 'x', dataMb: 2 ** 31 },
        { id: 'POOL-X', name: 'x', monthlyRate: 2.4e126 },
      ]) {
        const answer = await test.api('POST', '/api/v1/customer-pools', { body: { items: [item] } });
        assertErrorShape(answer, 422, 'VALIDATION_FAILED');
      }
      for (const scheduledFor of ['%00', '12', '2026', 'tomorrow', '2026-01-01T10:00:00']) {
        const answer = await test.api('POST', '/api/v1/bulk-changes', {
          body: bulkJson({ scheduledFor, dryRun: false }),
        });
        assertErrorShape(answer, 422, 'VALIDATION_FAILED');
        assert.equal((answer.body as ErrorAnswer).error.details[0].code, 'INVALID_DATE', scheduledFor);
      }
    });

    it('answers a billing system failure on customer sync with 502 BILLING_UNAVAILABLE', async () => {
      const revioUrl = await test.serveSimulator(
        createRevioSimulator({ faults: { rateLimitPerSecond: null, maxConcurrent: null } }),
      );
      const saved = await test.api('PUT', '/api/v1/billing-connection', {
        body: revioConnection(revioUrl, { credentials: { password: 'wrong-password' } }),
      });
      assert.equal(saved.status, 200, saved.text);
      assertErrorShape(await test.api('POST', '/api/v1/billing-customers/sync'), 502, 'BILLING_UNAVAILABLE');
      await fetch(`${revioUrl}/_sim/faults`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: '{"outage":true}',
      });
      await test.api('PUT', '/api/v1/billing-connection', { body: revioConnection(revioUrl) });
      assertErrorShape(await test.api('POST', '/api/v1/billing-customers/sync'), 502, 'BILLING_UNAVAILABLE');
    });

    it('answers errors Fastify and Node raise before a route in the same shape', async () => {
      const badUrl = await fetch(`${test.url}/api/v1/bulk-changes/%`);
      assertErrorShape(
        { status: badUrl.status, body: await badUrl.json(), text: '', headers: badUrl.headers },
        400,
      );
      const malformed = await rawExchange(
        test.url,
        'GET /api/v1/bulk-changes HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n',
      );
      assert.equal(malformed.status, 400);
      assert.equal(JSON.parse(malformed.body).error.code, 'BAD_REQUEST');
      const huge = await rawExchange(
        test.url,
        `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      );
      assert.equal(huge.status, 431);
      assert.equal(JSON.parse(huge.body).error.code, 'HEADERS_TOO_LARGE');
      const badJson = await test.api('POST', '/api/v1/bulk-changes', { body: '{"changes": [' });
      assertErrorShape(badJson, 400, 'FST_ERR_CTP_INVALID_JSON_BODY');
    });
  });
}

for (const dialect of testDialects) {
  describe(`carrier callbacks are cheap to refuse on ${dialect}`, () => {
    let test: TestService;
    let callbackUrl: string;
    const basic = (user: string, password: string) =>
      `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    before(async () => {
      test = await startTestService(dialect, { HTTP_BODY_TIMEOUT_MS: '1000' });
      const created = await test.api<{ id: string }>('POST', '/api/v1/carrier-accounts', {
        body: {
          name: 'thingspace callbacks',
          carrier: 'thingspace',
          baseUrl: 'http://127.0.0.1:9',
          credentials: {
            clientId: 'c',
            clientSecret: 's',
            username: 'u',
            password: 'p',
            callbackPassword: 'the-callback-password',
          },
          settings: {
            accountName: 'acct',
            callbackUrl: 'https://example.com/cb',
            callbackUsername: 'ts-callbacks',
          },
        },
      });
      assert.equal(created.status, 201, created.text);
      callbackUrl = `/callbacks/thingspace/${created.body.id}`;
    });
    after(() => test.stop());

    it('refuses wrong or non-ASCII credentials with the same answer, whatever their length', async () => {
      const answers = new Set<string>();
      for (const authorization of [
        basic('ts-callbacks', 'wrong'),
        basic('ts-callbacks', 'the-callback-passwörd'),
        basic('tš-callbacks', 'ü'.repeat(300)),
        basic('', ''),
        'Basic %%%',
        'Bearer x',
      ]) {
        const answer = await test.api(`POST`, callbackUrl, {
          key: null,
          body: { requestId: 'r' },
          headers: { authorization },
        });
        assertErrorShape(answer, 401, 'UNAUTHENTICATED');
        answers.add(answer.text);
      }
      for (const body of [
        { username: 'ts-callbacks', password: 'ü' },
        { username: 'ü'.repeat(40), password: 'x' },
      ]) {
        const answer = await test.api('POST', callbackUrl, { key: null, body });
        assertErrorShape(answer, 401, 'UNAUTHENTICATED');
        answers.add(answer.text);
      }
      assert.equal(answers.size, 1, 'one answer for every refusal');
    });

    it('refuses before reading the body: wrong Basic credentials, an unknown account, a body over 256 KiB', async () => {
      // Headers that promise 100 MB, and no body: the answer comes at once.
      const wrong = await rawExchange(
        test.url,
        `POST ${callbackUrl} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\nAuthorization: ${basic('ts-callbacks', 'nope')}\r\n\r\n`,
        { keepOpen: true },
      );
      assert.equal(wrong.status, 401);
      const unknown = await rawExchange(
        test.url,
        'POST /callbacks/thingspace/no-such-account HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n',
        { keepOpen: true },
      );
      assert.equal(unknown.status, 401);
      const large = await test.api('POST', callbackUrl, {
        key: null,
        body: {
          requestId: 'r',
          padding: 'x'.repeat(300 * 1024),
          username: 'ts-callbacks',
          password: 'the-callback-password',
        },
      });
      assertErrorShape(large, 413, 'PAYLOAD_TOO_LARGE');
    });

    it('closes a connection whose small body dribbles in', async () => {
      const { hostname, port } = new URL(test.url);
      const started = Date.now();
      const status = await new Promise<number>((resolve, reject) => {
        const socket = connect({ host: hostname, port: Number(port) });
        let answer = '';
        socket.on('data', (chunk) => {
          answer += chunk.toString();
        });
        socket.on('error', reject);
        socket.on('close', () => {
          clearInterval(drip);
          resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0));
        });
        socket.write(
          `POST ${callbackUrl} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{`,
        );
        const drip = setInterval(() => socket.writable && socket.write(' '), 200);
      });
      assert.equal(status, 408);
      assert.ok(Date.now() - started < 5_000, `closed after ${Date.now() - started} ms`);
    });

    it('still takes an authenticated callback, with the credentials in the body or as Basic', async () => {
      for (const request of [
        {
          body: {
            requestId: 'r1',
            deviceIds: [{ id: '1', kind: 'iccid' }],
            status: 'Success',
            username: 'ts-callbacks',
            password: 'the-callback-password',
          },
        },
        {
          body: { requestId: 'r2', deviceIds: [{ id: '1', kind: 'iccid' }], status: 'Success' },
          headers: { authorization: basic('ts-callbacks', 'the-callback-password') },
        },
      ]) {
        const answer = await test.api('POST', callbackUrl, { key: null, ...request });
        assert.equal(answer.status, 200, answer.text);
      }
    });
  });
}
