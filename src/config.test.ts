import assert from 'node:assert/strict';
import path from 'node:path';
import { it } from 'node:test';
import { ConfigError, loadConfig } from './config.ts';

it('applies defaults and resolves the data directory', () => {
  const config = loadConfig({});
  assert.equal(config.PORT, 8080);
  assert.equal(config.HOST, '127.0.0.1');
  assert.equal(config.BULKCHANGE_DATA_DIR, path.resolve('./data'));
  assert.equal(config.DATABASE_URL, undefined);
  assert.ok(Object.isFrozen(config));
});

it('reports every invalid key at once', () => {
  assert.throws(
    () =>
      loadConfig({
        PORT: 'abc',
        WORKER_CONCURRENCY: '0',
        DATABASE_URL: 'mysql://x',
        BULKCHANGE_ENCRYPTION_KEY: 'short',
      }),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      const keys = error.issues.map((issue) => issue.split(':')[0]).sort();
      assert.deepEqual(keys, ['BULKCHANGE_ENCRYPTION_KEY', 'DATABASE_URL', 'PORT', 'WORKER_CONCURRENCY']);
      return true;
    },
  );
});

it('ignores empty values and variables it does not own', () => {
  assert.equal(loadConfig({ PORT: '', HOME: '/root' }).PORT, 8080);
});
