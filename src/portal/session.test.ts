import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readCookie, SessionStore } from './session.ts';

const MINUTE = 60_000;
const limits = { maxSessions: 3, idleMs: 10 * MINUTE, maxAgeMs: 60 * MINUTE };

describe('portal sessions', () => {
  it('keeps at most maxSessions: the one seen longest ago ends first', () => {
    const ended: string[] = [];
    const store = new SessionStore(limits, (id) => ended.push(id));
    const [a, b, c] = [0, 1, 2].map((n) => store.create({ keyHash: `key-${n}` }, n));
    assert.ok(store.find(a.id, 3), 'a is seen again: b is now the one seen longest ago');
    const d = store.create({ keyHash: 'key-3' }, 4);
    assert.equal(store.size, 3);
    assert.deepEqual(ended, [b.id]);
    for (const session of [a, c, d]) assert.ok(store.find(session.id, 5));
  });

  it('ends a session idle for longer than idleMs, and any session older than maxAgeMs', () => {
    const store = new SessionStore(limits);
    const idle = store.create({ keyHash: 'idle' }, 0);
    assert.ok(store.find(idle.id, 10 * MINUTE), 'exactly idleMs later it still lives');
    assert.equal(store.find(idle.id, 20 * MINUTE + 1), undefined);

    const busy = store.create({ keyHash: 'busy' }, 0);
    for (let at = 5 * MINUTE; at <= 60 * MINUTE; at += 5 * MINUTE) assert.ok(store.find(busy.id, at));
    assert.equal(store.find(busy.id, 60 * MINUTE + 1), undefined, 'past its absolute lifetime');
  });

  it('sweeps idle sessions on every sign-in, so a crowd of abandoned ones does not stay', () => {
    const store = new SessionStore({ ...limits, maxSessions: 1_000 });
    for (let n = 0; n < 500; n++) store.create({ keyHash: `key-${n}` }, n);
    store.create({ keyHash: 'later' }, 11 * MINUTE + 500);
    assert.equal(store.size, 1);
  });

  it('reads a malformed cookie as none', () => {
    assert.equal(readCookie('bulkchange_session=%E0%A4%A', 'bulkchange_session'), undefined);
    assert.equal(readCookie('a=1; bulkchange_session=abc', 'bulkchange_session'), 'abc');
  });
});
