import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { type DemoFile, demoServer } from '../support/demo-server.ts';
import type { ChangeView } from '../support/e2e-stack.ts';
import {
  type Api,
  apiClient,
  type Child,
  listAll,
  repoRoot,
  simAdmin,
  waitForBulkChange,
} from '../support/processes.ts';

interface Device {
  id: string;
  iccid: string;
  status: string;
  carrierStatus: string;
}

const POD19_EXAMPLE = 'examples/pod19-test-ready.csv';

describe('the demo (serve --demo on an empty data dir)', () => {
  const serveDemo = demoServer('bulkchange-demo-', { HOST: '127.0.0.1', JOB_LEASE_MS: '2000' });
  let server: Child;
  let demo: DemoFile;
  let api: Api;
  let jasperAccountId: string;
  let changed: { accountId: string; iccids: string[] };

  const start = async () => {
    const started = await serveDemo.start();
    server = started.server;
    assert.equal(started.demo.baseUrl, started.banner.url, 'demo.json names the URL the banner prints');
    assert.equal(started.demo.apiKey, started.banner.key, 'demo.json holds the key the banner prints');
    // It holds an admin key, beside the database and the encryption key: all readable by their owner only.
    for (const file of ['demo.json', 'bulkchange.db', 'bulkchange.db-wal', 'encryption.key']) {
      assert.equal(statSync(path.join(started.dataDir, file)).mode & 0o777, 0o600, file);
    }
    return started.demo;
  };

  /** Inventory and carrier agree on the given lines (carrierStatus = the simulator's state). */
  const assertAgree = async (accountId: string, iccids: Set<string> | null, simulatorUrl: string) => {
    const lines = new Map((await simAdmin(simulatorUrl).devices()).map((line) => [line.iccid, line]));
    const inventory = await listAll<Device>(api, `/api/v1/devices?carrierAccountId=${accountId}`);
    const sample = iccids
      ? inventory.filter((device) => iccids.has(device.iccid))
      : inventory.filter((_, index) => index % 37 === 0);
    assert.ok(sample.length > 0);
    for (const device of sample) {
      assert.equal(
        lines.get(device.iccid)?.state,
        device.carrierStatus,
        `${device.iccid}: the simulator and the inventory disagree`,
      );
    }
    return sample;
  };

  it('starts, prints the URL and key, and writes demo.json (API §6)', async () => {
    demo = await start();
    assert.match(demo.baseUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(demo.apiKey.length >= 20);
    assert.equal(demo.tenant, 'demo');
    assert.equal(demo.carrierAccounts.length, 8);
    for (const account of demo.carrierAccounts) {
      assert.equal(typeof account.id, 'string');
      assert.equal(typeof account.name, 'string');
    }
    assert.deepEqual(demo.carrierAccounts.map((account) => account.carrier).sort(), [
      'jasper',
      'jasper',
      'jasper',
      'jasper',
      'pond',
      'teal',
      'telegence',
      'thingspace',
    ]);
    assert.ok(Object.keys(demo.simulators).length >= 8);
    for (const url of Object.values(demo.simulators)) assert.ok(url.startsWith(demo.baseUrl));
    assert.ok(demo.examples.length >= 1);
    const ids = new Set(demo.carrierAccounts.map((account) => account.id));
    for (const example of demo.examples) {
      assert.match(example.file, /^examples\/.+\.csv$/);
      assert.ok(ids.has(example.carrierAccountId ?? ''), `${example.file} names a demo account`);
      assert.ok(example.changeType && example.description);
    }
    api = apiClient(demo.baseUrl, demo.apiKey);
  });

  it('lists an account per carrier: four Jasper-family ones, ThingSpace, Telegence, POND and Teal', async () => {
    const all = await api<{
      items: Array<{ id: string; name: string; carrier: string; settings: { variant?: string } }>;
    }>('GET', '/api/v1/carrier-accounts');
    assert.equal(all.status, 200, all.text);
    assert.equal(all.body.items.length, 8);
    for (const carrier of ['thingspace', 'telegence', 'pond', 'teal']) {
      assert.equal(all.body.items.filter((account) => account.carrier === carrier).length, 1, carrier);
    }
    assert.doesNotMatch(all.text, /demo-password|demo-client-secret/, 'no credentials');
    const accounts = { body: { items: all.body.items.filter((account) => account.carrier === 'jasper') } };
    assert.deepEqual(accounts.body.items.map((account) => account.settings.variant).sort(), [
      'jasper',
      'pod19',
      'rogers',
      'tmobile_jasper',
    ]);
    const jasper = accounts.body.items.find((account) => account.name === 'Jasper (demo)');
    assert.ok(jasper, 'a "Jasper (demo)" account');
    jasperAccountId = jasper.id;
    assert.equal(JSON.stringify(accounts.body).includes('demo-api-key'), false, 'no credentials');
  });

  it('holds thousands of lines in mixed statuses, and the simulator agrees with the inventory', async () => {
    const page = await api<{ items: Device[]; nextCursor: string | null }>(
      'GET',
      `/api/v1/devices?carrierAccountId=${jasperAccountId}&limit=1000`,
    );
    assert.equal(page.status, 200, page.text);
    assert.equal(page.body.items.length, 1000);
    assert.ok(page.body.nextCursor);
    const statuses = new Set(page.body.items.map((device) => device.status));
    assert.ok(statuses.size >= 3, `mixed statuses: ${[...statuses].join(', ')}`);
    const all = await listAll<Device>(api, `/api/v1/devices?carrierAccountId=${jasperAccountId}`);
    assert.ok(all.length >= 2000, `${all.length} lines`);
    assert.equal(new Set(all.map((device) => device.id)).size, all.length, 'paging returns each line once');
    const sample = await assertAgree(jasperAccountId, null, demo.simulators.jasper);
    assert.ok(sample.length >= 50);
  });

  it('answers health, readiness, metrics and the OpenAPI document', async () => {
    const healthz = await fetch(`${demo.baseUrl}/healthz`);
    assert.equal(healthz.status, 200);
    const readyz = await fetch(`${demo.baseUrl}/readyz`);
    assert.equal(readyz.status, 200, await readyz.text());
    const metrics = await fetch(`${demo.baseUrl}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain/);
    assert.match(await metrics.text(), /^bulkchange_\w+/m);
    const openapi = await fetch(`${demo.baseUrl}/api/openapi.json`);
    assert.equal(openapi.status, 200);
    const document = (await openapi.json()) as { openapi: string; paths: Record<string, unknown> };
    assert.match(document.openapi, /^3\./);
    assert.ok(document.paths['/api/v1/bulk-changes'], 'documents /api/v1/bulk-changes');
    // The product API only: the demo's simulators (mounted in the same app) are not in it.
    const paths = Object.keys(document.paths);
    assert.ok(paths.some((path) => path.startsWith('/api/v1/')));
    assert.deepEqual(
      paths.filter((path) => !path.startsWith('/api/v1/') && !path.startsWith('/callbacks/')),
      [],
      'only product routes',
    );
    assert.doesNotMatch(JSON.stringify(document), /API\.md/, 'no link to a file that is not served');
  });

  it('runs the POD19 example CSV to completion', async () => {
    const example = demo.examples.find((candidate) => candidate.file === POD19_EXAMPLE);
    assert.ok(example?.carrierAccountId, `demo.json lists ${POD19_EXAMPLE}`);
    const accountId = example.carrierAccountId;
    const file = path.join(repoRoot, POD19_EXAMPLE);
    let csv: string;
    if (existsSync(file)) {
      csv = readFileSync(file, 'utf8');
    } else {
      // The example is not in the repository yet: the same change, on 20 lines.
      const lines = await api<{ items: Device[] }>(
        'GET',
        `/api/v1/devices?carrierAccountId=${accountId}&status=inventory&limit=20`,
      );
      assert.equal(lines.body.items.length, 20);
      csv = ['iccid,target_status', ...lines.body.items.map((line) => `${line.iccid},test_ready`)].join('\n');
    }
    const rows = csv.trim().split(/\r?\n/).length - 1;
    const created = await api<{ id: string; counts: { total: number } }>(
      'POST',
      `/api/v1/bulk-changes?carrierAccountId=${accountId}&changeType=${example.changeType}`,
      { body: csv, contentType: 'text/csv' },
    );
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.counts.total, rows);
    // The demo accounts run at Jasper's own limit of 5 requests a second.
    const done = await waitForBulkChange(api, created.body.id, Math.max(30_000, rows * 400));
    assert.equal(done.status, 'completed', JSON.stringify(done));
    assert.equal(done.counts.succeeded, rows);
    const changes = await listAll<ChangeView>(api, `/api/v1/bulk-changes/${created.body.id}/changes`);
    assert.ok(changes.every((change) => change.status === 'succeeded'));
    changed = { accountId, iccids: changes.map((change) => change.iccid) };
    const pod19 = Object.entries(demo.simulators).find(([key]) => key === 'pod19')?.[1];
    assert.ok(pod19, 'demo.json names the POD19 simulator');
    const agreed = await assertAgree(accountId, new Set(changed.iccids), pod19);
    assert.equal(agreed.length, rows);
    assert.ok(
      agreed.every((device) => device.status === 'test_ready' && device.carrierStatus === 'TEST_READY'),
    );
  });

  it('restarts on the same data dir without seeding twice; the key still works; carrier and inventory agree', async () => {
    assert.equal(await server.kill('SIGTERM'), 0, server.stderr);
    const before = demo;
    demo = await start();
    assert.equal(demo.apiKey, before.apiKey, 'the same key');
    assert.deepEqual(
      demo.carrierAccounts.map((account) => account.id).sort(),
      before.carrierAccounts.map((account) => account.id).sort(),
      'the same accounts',
    );
    api = apiClient(demo.baseUrl, demo.apiKey);
    const accounts = await api<{ items: unknown[] }>('GET', '/api/v1/carrier-accounts');
    assert.equal(accounts.status, 200, 'the key of demo.json works');
    assert.equal(accounts.body.items.length, 8, 'no second set of accounts');
    const lines = await listAll<Device>(api, `/api/v1/devices?carrierAccountId=${jasperAccountId}`);
    assert.equal(lines.length, 2000, 'no second set of lines');
    const agreed = await assertAgree(changed.accountId, new Set(changed.iccids), demo.simulators.pod19);
    assert.equal(agreed.length, changed.iccids.length);
    assert.ok(agreed.every((device) => device.carrierStatus === 'TEST_READY'));
    await assertAgree(jasperAccountId, null, demo.simulators.jasper);
  });
});
