import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  REDACTED,
  redactBody,
  redactForAudit,
  redactHeaders,
  redactString,
  redactUrl,
  truncateForAudit,
} from './redaction.ts';

describe('redactHeaders', () => {
  it('redacts credential headers and keeps the rest', () => {
    const out = redactHeaders({
      Authorization: 'Basic dXNlcjpwYXNz',
      'proxy-authorization': 'x',
      cookie: 'a=b',
      'set-cookie': ['a=b', 'c=d'],
      'VZ-M2M-Token': 'abc',
      'X-Api-Key': 'k',
      'x-client-secret': 's',
      'X-Password': 'p',
      'x-auth-user': 'u',
      'content-type': 'application/json',
      'content-length': 12,
      'x-empty': undefined,
      'x-note': 'see Bearer abc.def.ghi123',
    });
    for (const name of [
      'Authorization',
      'proxy-authorization',
      'cookie',
      'set-cookie',
      'VZ-M2M-Token',
      'X-Api-Key',
      'x-client-secret',
      'X-Password',
      'x-auth-user',
    ]) {
      assert.equal(out[name], REDACTED, name);
    }
    assert.equal(out['content-type'], 'application/json');
    assert.equal(out['content-length'], '12');
    assert.equal('x-empty' in out, false);
    assert.equal(out['x-note'], `see ${REDACTED}`);
  });
});

describe('redactBody', () => {
  it('deep-copies and redacts secret keys and credential strings', () => {
    const input = {
      username: 'alice',
      password: 'hunter2',
      nested: { client_secret: 's', apiKey: 'k', 'api-key': 'k2', list: [{ accessToken: 't', id: 1 }] },
      Authorization: 'whatever',
      credentials: { user: 'u', pass: 'p' },
      passwd: null,
      note: 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig',
      header: 'Basic dXNlcjpwYXNz',
      plan: 'Basic IoT 1MB',
      words: 'Basic connectivity plan',
      iccid: '8901260123456789012',
      when: new Date('2026-01-02T03:04:05Z'),
    };
    const copy = structuredClone(input);
    const out = redactBody(input) as Record<string, unknown>;
    assert.deepEqual(input, copy, 'input untouched');
    assert.deepEqual(out, {
      username: 'alice',
      password: REDACTED,
      nested: {
        client_secret: REDACTED,
        apiKey: REDACTED,
        'api-key': REDACTED,
        list: [{ accessToken: REDACTED, id: 1 }],
      },
      Authorization: REDACTED,
      credentials: REDACTED,
      passwd: null,
      note: REDACTED,
      header: REDACTED,
      plan: 'Basic IoT 1MB',
      words: 'Basic connectivity plan',
      iccid: '8901260123456789012',
      when: '2026-01-02T03:04:05.000Z',
    });
  });

  it('handles cycles, primitives, URLSearchParams and binary', () => {
    const a: Record<string, unknown> = { x: 1 };
    a.self = a;
    assert.deepEqual(redactBody(a), { x: 1, self: '[Circular]' });
    assert.equal(redactBody(5), 5);
    assert.equal(redactBody(null), null);
    assert.deepEqual(redactBody(new URLSearchParams('grant_type=password&password=p&username=u')), {
      grant_type: 'password',
      password: REDACTED,
      username: 'u',
    });
    assert.equal(redactBody(Buffer.from('abc')), '[binary 3 bytes]');
    const shared = { k: 1 };
    assert.deepEqual(redactBody([shared, shared]), [{ k: 1 }, { k: 1 }], 'repeated reference is not a cycle');
  });
});

describe('redactString / redactUrl', () => {
  it('redacts JWTs and auth schemes inside text', () => {
    assert.equal(redactString('token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc end'), `token ${REDACTED} end`);
    assert.equal(redactString('short'), 'short');
  });

  it('drops user info and redacts secret query parameters', () => {
    const out = redactUrl('https://user:pw@api.example.com/v1/x?api_key=abc&page=2&token=t&token=u&sig=s');
    const url = new URL(out);
    assert.equal(url.username, '');
    assert.equal(url.password, '');
    assert.equal(url.searchParams.get('page'), '2');
    assert.deepEqual(url.searchParams.getAll('token'), [REDACTED, REDACTED]);
    assert.equal(url.searchParams.get('api_key'), REDACTED);
    assert.equal(url.searchParams.get('sig'), REDACTED);
    assert.ok(!out.includes('abc') && !out.includes('pw'));
  });
});

describe('truncateForAudit', () => {
  it('keeps short text and cuts long text to the byte limit with a marker', () => {
    assert.equal(truncateForAudit('hello'), 'hello');
    const long = 'x'.repeat(100_000);
    const cut = truncateForAudit(long);
    assert.ok(Buffer.byteLength(cut) <= 64 * 1024);
    assert.match(cut, /…\[truncated \d+ bytes\]$/);
    assert.ok(cut.startsWith('x'.repeat(60_000)));
  });

  it('never splits a multi-byte character', () => {
    const text = 'é'.repeat(1000) + '😀'.repeat(1000);
    for (const max of [100, 101, 102, 103, 2500]) {
      const cut = truncateForAudit(text, max);
      assert.ok(Buffer.byteLength(cut) <= max, `max ${max}`);
      assert.ok(!cut.includes('\uFFFD'));
      assert.equal(Buffer.from(cut).toString('utf8'), cut);
    }
  });

  it('redactForAudit truncates large bodies to JSON text', () => {
    const big = {
      password: 'p',
      items: Array.from({ length: 10_000 }, (_, i) => ({ iccid: `89${i}`.padEnd(19, '0') })),
    };
    const out = redactForAudit(big);
    assert.equal(typeof out, 'string');
    assert.ok(Buffer.byteLength(out as string) <= 64 * 1024);
    assert.ok((out as string).startsWith(`{"password":"${REDACTED}"`));
    assert.deepEqual(redactForAudit({ a: 1 }), { a: 1 });
    assert.equal(redactForAudit(undefined), null);
  });
});
