import assert from 'node:assert/strict';
import { type AddressInfo, createServer } from 'node:net';
import { after, describe, it } from 'node:test';
import {
  freePort,
  killAllChildren,
  runCli,
  simAdmin,
  startCli,
  tempDir,
  waitUntil,
} from '../support/processes.ts';

describe('the bulkchange CLI', () => {
  const dirs: Array<{ remove: () => void }> = [];
  const dataDir = () => {
    const dir = tempDir('bulkchange-cli-');
    dirs.push(dir);
    return dir.dir;
  };
  after(async () => {
    await killAllChildren();
    for (const dir of dirs) dir.remove();
  });

  it('--help prints the usage and exits 0', async () => {
    const result = await runCli(['--help']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Usage: bulkchange <command>/);
    for (const command of ['serve', 'migrate', 'simulate', 'keys create']) {
      assert.ok(result.stdout.includes(command), `usage names ${command}`);
    }
  });

  it('an unknown command exits 2 with the usage on stderr', async () => {
    const result = await runCli(['frobnicate']);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /Unknown command "frobnicate"/);
    assert.match(result.stderr, /Usage: bulkchange/);
    assert.equal(result.stdout, '');
  });

  it('jobs lists the failed jobs and refuses to retry one that does not exist', async () => {
    const env = { BULKCHANGE_DATA_DIR: dataDir(), LOG_LEVEL: 'warn' };
    assert.equal((await runCli(['migrate'], env)).code, 0);
    const listed = await runCli(['jobs', 'failed'], env);
    assert.equal(listed.code, 0, listed.stderr);
    assert.equal(listed.stdout, '');
    const retried = await runCli(['jobs', 'retry', 'no-such-job'], env);
    assert.equal(retried.code, 2);
    assert.match(retried.stderr, /No failed job no-such-job/);
  });

  it('migrate applies the schema to a fresh data dir, then says it is up to date', async () => {
    const env = { BULKCHANGE_DATA_DIR: dataDir(), LOG_LEVEL: 'warn' };
    const first = await runCli(['migrate'], env);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^Applied: \S+/);
    const second = await runCli(['migrate'], env);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /up to date/);
  });

  it('keys create without --role exits 2', async () => {
    const result = await runCli(['keys', 'create', '--tenant', 'acme'], { BULKCHANGE_DATA_DIR: dataDir() });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--role/);
    assert.equal(result.stdout, '', 'no key printed');
  });

  it("keys list shows a tenant's keys and keys revoke revokes one", async () => {
    const env = { BULKCHANGE_DATA_DIR: dataDir(), LOG_LEVEL: 'warn' };
    const created = await runCli(
      ['keys', 'create', '--tenant', 'acme', '--role', 'viewer', '--name', 'ci'],
      env,
    );
    assert.equal(created.code, 0, created.stderr);
    const key = created.stdout.trim();
    const listed = await runCli(['keys', 'list', '--tenant', 'acme'], env);
    assert.equal(listed.code, 0, listed.stderr);
    const [header, line] = listed.stdout.trim().split('\n');
    assert.match(header, /^ID\s+ROLE\s+PREFIX\s+CREATED\s+LAST USED\s+REVOKED\s+NAME$/);
    assert.ok(line.includes(`${key.slice(0, 10)}…`) && line.endsWith('ci'), line);
    assert.ok(!listed.stdout.includes(key), 'never the key itself');
    const id = line.split(/\s+/)[0];
    const revoked = await runCli(['keys', 'revoke', id], env);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(revoked.stdout, new RegExp(`^Revoked ${id}`));
    assert.doesNotMatch(
      (await runCli(['keys', 'list', '--tenant', 'acme'], env)).stdout.split('\n')[1],
      /\s-\s+ci$/,
    );
    const missing = await runCli(['keys', 'revoke', 'no-such-key'], env);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /No API key no-such-key/);
  });

  it('an invalid environment exits 2 and names every bad key', async () => {
    const result = await runCli(['serve'], {
      BULKCHANGE_DATA_DIR: dataDir(),
      PORT: 'abc',
      WORKER_CONCURRENCY: '0',
    });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /PORT/);
    assert.match(result.stderr, /WORKER_CONCURRENCY/);
  });

  it('serve on a taken port says which port and how to choose another, in one line, and exits 2', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    try {
      // The port is tried after the database is migrated: a slow machine needs more than the default.
      const result = await runCli(
        ['serve'],
        { BULKCHANGE_DATA_DIR: dataDir(), PORT: String(port), LOG_LEVEL: 'warn' },
        60_000,
      );
      assert.equal(result.code, 2, result.stderr);
      assert.equal(
        result.stderr,
        `Cannot listen on 127.0.0.1:${port}: the port is in use (another bulkchange?); choose another with PORT, e.g. PORT=${port + 1} npm start\n`,
      );
    } finally {
      taken.close();
    }
  });

  it('simulate jasper --port P serves the admin API with the Jasper limits', async () => {
    const port = await freePort();
    const child = startCli(['simulate', 'jasper', '--port', String(port)]);
    await child.waitForOutput(new RegExp(`listening at http://127\\.0\\.0\\.1:${port}`));
    const sim = simAdmin(`http://127.0.0.1:${port}`);
    const faults = await waitUntil('the simulator', () => sim.faults());
    assert.equal(faults.rateLimitPerSecond, 5);
    assert.equal(faults.maxConcurrent, 1);
    assert.equal(await child.kill('SIGTERM'), 0, 'SIGTERM stops it cleanly');
  });
});
