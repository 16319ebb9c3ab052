import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { it } from 'node:test';
import { loadSecretBox, SecretBox } from './secret-box.ts';

it('round-trips, uses a fresh IV each time and detects tampering', () => {
  const box = new SecretBox(Buffer.alloc(32, 7));
  const secret = '{"username":"u","apiKey":"k-123"}';
  const first = box.encrypt(secret);
  assert.notEqual(first, box.encrypt(secret));
  assert.ok(!first.includes('k-123'));
  assert.equal(box.decrypt(first), secret);
  const [version, iv, tag, data] = first.split('.');
  const flipped = `${data[0] === 'A' ? 'B' : 'A'}${data.slice(1)}`;
  assert.throws(() => box.decrypt([version, iv, tag, flipped].join('.')));
  assert.throws(() => new SecretBox(Buffer.alloc(32, 8)).decrypt(first));
});

it('generates the key once into the data directory, readable by its owner only', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bulkchange-key-'));
  try {
    const sealed = loadSecretBox({ dataDir: dir }).encrypt('x');
    const file = path.join(dir, 'encryption.key');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const key = readFileSync(file, 'utf8');
    assert.equal(loadSecretBox({ dataDir: dir }).decrypt(sealed), 'x');
    assert.equal(readFileSync(file, 'utf8'), key);
    assert.equal(
      loadSecretBox({ dataDir: dir, keyHex: 'ab'.repeat(32) })
        .encrypt('y')
        .split('.').length,
      4,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
