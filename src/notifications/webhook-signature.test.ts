import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { it } from 'node:test';
import { pathToFileURL } from 'node:url';
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

it('verifies with the few lines docs/webhooks.md gives receivers', async () => {
  const docs = readFileSync(new URL('../../docs/webhooks.md', import.meta.url), 'utf8');
  const snippet = /```js\n([\s\S]*?)```/.exec(docs)?.[1];
  assert.ok(snippet, 'docs/webhooks.md has a JavaScript example');
  const dir = mkdtempSync(path.join(tmpdir(), 'bulkchange-docs-'));
  try {
    const file = path.join(dir, 'verify.mjs');
    writeFileSync(file, `${snippet}\nexport { verify };\n`);
    const { verify } = (await import(pathToFileURL(file).href)) as {
      verify: (secret: string, header: string, body: string) => boolean;
    };
    const secret = newWebhookSecret();
    const body = '{"id":"evt_2","type":"bulk_change.started","data":{}}';
    const header = signatureHeader(secret, body, Math.floor(Date.now() / 1000));
    assert.equal(verify(secret, header, body), true);
    assert.equal(verify(newWebhookSecret(), header, body), false);
    assert.equal(verify(secret, header, `${body} `), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
