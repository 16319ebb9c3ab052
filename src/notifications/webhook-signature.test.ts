import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { it } from 'node:test';
import { newWebhookSecret, signatureHeader, verifySignature } from './webhook-signature.ts';

it('signs timestamp + "." + body with HMAC-SHA256, as a receiver recomputes it', () => {
  const secret = newWebhookSecret();
  const body = '{"id":"evt_1","type":"bulk_change.completed"}';
  const header = signatureHeader(secret, body, 1_767_225_600);
  const expected = createHmac('sha256', secret).update(`1767225600.${body}`).digest('hex');
  assert.equal(header, `t=1767225600,v1=${expected}`);
  assert.ok(verifySignature(secret, header, body, { now: 1_767_225_600_000 }));
});

it('refuses another secret, a changed body, an old timestamp and a malformed header', () => {
  const secret = newWebhookSecret();
  const now = Date.now();
  const header = signatureHeader(secret, 'body', Math.floor(now / 1000));
  assert.ok(verifySignature(secret, header, 'body', { now }));
  assert.ok(!verifySignature(newWebhookSecret(), header, 'body', { now }));
  assert.ok(!verifySignature(secret, header, 'body!', { now }));
  assert.ok(!verifySignature(secret, header, 'body', { now: now + 10 * 60_000 }));
  assert.ok(!verifySignature(secret, 'v1=abc', 'body', { now }));
  assert.ok(!verifySignature(secret, undefined, 'body', { now }));
});
