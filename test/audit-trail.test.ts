import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { chainHash } from '../src/audit/audit-chain.ts';
import { AuditSealer } from '../src/audit/audit-sealer.ts';
import { createRevioSimulator } from '../src/billing/revio/simulator/simulator.ts';
import { Retention } from '../src/bulk-changes/retention.ts';
import type { AuditEntryRow } from '../src/db/schema.ts';
import { testDialects } from './support/databases.ts';
import { runCli, simAdmin, tempDir } from './support/processes.ts';
import { jasperFixture, serviceForSuite, waitForFinish } from './support/service.ts';

interface Entry {
  id: string;
  actor: string;
  action: string;
  carrierAccountId: string | null;
  response: {
    actor?: { keyName: string; role: string };
    before?: Record<string, unknown>;
    after?: Record<string, unknown>;
    changes?: Array<{
      deviceId: string;
      iccid: string;
      before: Record<string, unknown>;
      after: Record<string, unknown>;
    }>;
  };
}
interface Verification {
  ok: boolean;
  entries: number;
  unsealed: number;
  firstBrokenId?: string;
  reason?: string;
  head: { seq: number; hash: string };
}

for (const dialect of testDialects) {
  describe(`the audit trail on ${dialect}`, () => {
    const test = serviceForSuite(dialect);
    const seal = () =>
      new AuditSealer(test.service.database.db, test.service.database.capabilities).sealAll();
    const entries = async (query: string) =>
      (await test.api<{ items: Entry[] }>('GET', `/api/v1/audit?limit=1000&${query}`)).body.items;
    const adminActor = async () => {
      const [created] = await entries('action=carrier_account.create');
      return created.actor;
    };

    it('records who toggled writes, replaced credentials, created a key and synced the inventory, before → after', async () => {
      const { accountId, simulatorUrl, iccids } = await jasperFixture(test, { count: 3, prefix: '8901771' });
      const actor = await adminActor();
      assert.match(actor, /^key:/);

      await test.api('PATCH', `/api/v1/carrier-accounts/${accountId}`, { body: { writeEnabled: false } });
      const [toggled] = await entries('action=carrier_account.writes_disabled');
      assert.equal(toggled.actor, actor);
      assert.equal(toggled.carrierAccountId, accountId);
      assert.deepEqual(
        [toggled.response.before, toggled.response.after],
        [{ writeEnabled: true }, { writeEnabled: false }],
      );
      assert.equal(toggled.response.actor?.role, 'admin');

      await test.api('PATCH', `/api/v1/carrier-accounts/${accountId}`, {
        body: { credentials: { username: 'demo', apiKey: 'rotated-secret-key' }, name: 'jasper renamed' },
      });
      const [rotated] = await entries('action=carrier_account.credentials_replaced');
      assert.deepEqual(rotated.response.after, { credentials: 'replaced' });
      const [renamed] = await entries(`action=carrier_account.update`);
      assert.equal(renamed.response.after?.name, 'jasper renamed');
      const all = await test.api('GET', '/api/v1/audit?limit=1000');
      assert.doesNotMatch(all.text, /rotated-secret-key|demo-api-key/, 'credentials never reach the log');

      await test.keyFor('acme', 'viewer');
      const [key] = (await entries('action=api_key.create')).slice(-1);
      assert.equal(key.actor, 'cli');
      assert.equal(key.response.after?.role, 'viewer');
      assert.doesNotMatch(JSON.stringify(key), /bck_[A-Za-z0-9_-]{20,}/, 'the key itself is never logged');
      const keyId = String(key.response.after?.id);
      assert.equal((await test.api('DELETE', `/api/v1/api-keys/${keyId}`)).status, 200);
      const [revoked] = await entries('action=api_key.revoke');
      assert.equal(revoked.actor, actor);
      assert.equal(revoked.response.before?.id, keyId);
      assert.equal(revoked.response.before?.revokedAt, null);
      assert.match(String(revoked.response.after?.revokedAt), /^\d{4}-/);

      // The billing connection: saved, then saved again with writes off; credentials never shown.
      const revioUrl = await test.serveSimulator(createRevioSimulator());
      const connection = (writeEnabled: boolean) =>
        test.api('PUT', '/api/v1/billing-connection', {
          body: {
            system: 'revio',
            baseUrl: revioUrl,
            credentials: {
              username: 'demo@bulkchange',
              password: 'rev-secret-pw',
              subscriptionKey: 'rev-sub-key',
            },
            writeEnabled,
          },
        });
      assert.equal((await connection(true)).status, 200);
      assert.equal((await connection(false)).status, 200);
      const [billingCreated] = await entries('action=billing_connection.create');
      assert.equal(billingCreated.actor, actor);
      const [billingUpdated] = await entries('action=billing_connection.update');
      assert.deepEqual(billingUpdated.response.before, {
        writeEnabled: true,
        credentials: 'previous (not recorded)',
      });
      assert.deepEqual(billingUpdated.response.after, { writeEnabled: false, credentials: 'replaced' });
      assert.doesNotMatch(
        (await test.api('GET', '/api/v1/audit?limit=1000')).text,
        /rev-secret-pw|rev-sub-key/,
      );

      // The carrier knows a line as deactivated that the inventory has as activation-ready.
      await simAdmin(simulatorUrl).seed([{ iccid: iccids[1], state: 'DEACTIVATED' }]);
      await test.api('PATCH', `/api/v1/carrier-accounts/${accountId}`, {
        body: { credentials: { username: 'demo', apiKey: 'demo-api-key' } },
      });
      const synced = await test.api('POST', `/api/v1/carrier-accounts/${accountId}/inventory-sync`);
      assert.equal(synced.status, 202);
      const [requested] = await entries('action=inventory_sync.request');
      assert.equal(requested.actor, actor);
      let sync: Entry | undefined;
      for (let tries = 0; tries < 200 && !sync; tries++) {
        [sync] = await entries('action=inventory_sync');
        if (!sync) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.ok(sync, 'the sync finished and was audited');
      assert.equal(sync.actor, 'inventory_sync');
      assert.deepEqual(sync.response.changes, [
        {
          deviceId: sync.response.changes?.[0]?.deviceId,
          iccid: iccids[1],
          before: { status: 'activation_ready', carrier_status: 'ACTIVATION_READY' },
          after: { status: 'deactivated', carrier_status: 'DEACTIVATED' },
        },
      ]);
    });

    it('records what a bulk change did to each line, and who cancelled or retried it', async () => {
      const fixture = await jasperFixture(test, { count: 3, prefix: '8901772' });
      const created = await test.api<{ id: string }>('POST', '/api/v1/bulk-changes', {
        body: {
          carrierAccountId: fixture.accountId,
          changeType: 'status_update',
          options: { targetStatus: 'active' },
          changes: fixture.iccids.map((iccid) => ({ iccid })),
        },
      });
      assert.equal((await waitForFinish(test, created.body.id)).status, 'completed');
      const [inventory] = await entries(`action=inventory.update&bulkChangeId=${created.body.id}`);
      assert.equal(inventory.actor, 'engine');
      const lines = (inventory.response as { lines: NonNullable<Entry['response']['changes']> }).lines;
      assert.deepEqual(lines.map((line) => line.iccid).sort(), [...fixture.iccids].sort());
      assert.ok(
        lines.every(
          (line) =>
            line.before.carrier_status === 'ACTIVATION_READY' && line.after.carrier_status === 'ACTIVATED',
        ),
      );
      const [creation] = await entries(`action=bulk_change.create&bulkChangeId=${created.body.id}`);
      const actor = await adminActor();
      assert.equal(creation.actor, actor);
      assert.equal(creation.response.after?.rows, 3);

      // Scheduled, then cancelled before it starts.
      const later = await jasperFixture(test, { count: 1, prefix: '8901774' });
      const scheduledFor = new Date(Date.now() + 3_600_000).toISOString();
      const scheduled = await test.api<{ id: string }>('POST', '/api/v1/bulk-changes', {
        body: {
          carrierAccountId: later.accountId,
          changeType: 'status_update',
          options: { targetStatus: 'active' },
          changes: later.iccids.map((iccid) => ({ iccid })),
          scheduledFor,
        },
      });
      const [schedule] = await entries(`action=bulk_change.schedule&bulkChangeId=${scheduled.body.id}`);
      assert.deepEqual([schedule.actor, schedule.response.after], [actor, { scheduledFor }]);
      await test.api('POST', `/api/v1/bulk-changes/${scheduled.body.id}/cancel`);
      const [cancel] = await entries(`action=bulk_change.cancel&bulkChangeId=${scheduled.body.id}`);
      assert.deepEqual(
        [cancel.actor, cancel.response.before, cancel.response.after],
        [actor, { status: 'scheduled' }, { cancelRequested: true, rowsCancelled: 1 }],
      );

      // Failed rows retried.
      const partly = await jasperFixture(test, { count: 1, unknownToCarrier: 1, prefix: '8901775' });
      const failing = await test.api<{ id: string }>('POST', '/api/v1/bulk-changes', {
        body: {
          carrierAccountId: partly.accountId,
          changeType: 'status_update',
          options: { targetStatus: 'active' },
          changes: [...partly.iccids, ...partly.unknownToCarrier].map((iccid) => ({ iccid })),
        },
      });
      assert.equal((await waitForFinish(test, failing.body.id)).status, 'completed_with_errors');
      const retried = await test.api<{ id: string }>('POST', `/api/v1/bulk-changes/${failing.body.id}/retry`);
      assert.equal(retried.status, 201, retried.text);
      const [retry] = await entries(`action=bulk_change.retry&bulkChangeId=${failing.body.id}`);
      assert.deepEqual([retry.actor, retry.response.after?.retriedAs], [actor, retried.body.id]);
      // Its calls are audited too: let it end, so that the next test proves a log nothing still writes to.
      await waitForFinish(test, retried.body.id);
    });

    it('proves the sealed log unchanged, and names the entry edited in the database, in the API and the CLI', async () => {
      await seal();
      const verified = await test.api<Verification>('GET', '/api/v1/audit/verify');
      assert.equal(verified.status, 200, verified.text);
      assert.equal(verified.body.ok, true, JSON.stringify(verified.body));
      assert.ok(verified.body.entries > 10);
      assert.equal(verified.body.unsealed, 0);
      const cli = await runCli(['audit', 'verify', '--tenant', 'acme'], test.storeEnv);
      assert.equal(cli.code, 0, cli.stderr);
      assert.match(
        cli.stdout,
        new RegExp(
          `^acme: ok, ${verified.body.entries} sealed entries .* head ${verified.body.head.hash}\\n$`,
        ),
      );

      // Someone with database access softens what a toggle recorded.
      const [target] = await entries('action=carrier_account.writes_disabled');
      const { db } = test.service.database;
      await db
        .updateTable('audit_entries')
        .set({ response: JSON.stringify({ before: { writeEnabled: true }, after: { writeEnabled: true } }) })
        .where('id', '=', Number(target.id))
        .execute();
      const broken = await test.api<Verification>('GET', '/api/v1/audit/verify');
      assert.equal(broken.body.ok, false);
      assert.equal(broken.body.firstBrokenId, target.id);
      assert.match(broken.body.reason ?? '', /changed after sealing/);
      const named = await runCli(['audit', 'verify'], test.storeEnv);
      assert.equal(named.code, 1);
      assert.match(named.stdout, new RegExp(`acme: BROKEN at entry ${target.id} `));

      // Putting it back restores the proof; removing an entry leaves a gap named at the next one.
      await db
        .updateTable('audit_entries')
        .set({ response: JSON.stringify(target.response) })
        .where('id', '=', Number(target.id))
        .execute();
      assert.equal((await test.api<Verification>('GET', '/api/v1/audit/verify')).body.ok, true);
      const chain = (seq: number) =>
        db
          .selectFrom('audit_entries')
          .select('id')
          .where('tenant_id', '=', test.tenantId)
          .where('seq', '=', seq)
          .executeTakeFirstOrThrow();
      const after = await chain(6);
      await db
        .deleteFrom('audit_entries')
        .where('id', '=', (await chain(5)).id)
        .execute();
      const gap = await test.api<Verification>('GET', '/api/v1/audit/verify');
      assert.equal(gap.body.ok, false);
      assert.equal(gap.body.firstBrokenId, String(after.id));
      assert.match(gap.body.reason ?? '', /missing/);
    });
  });

  describe(`retention on ${dialect}`, () => {
    const test = serviceForSuite(dialect);
    const seal = () =>
      new AuditSealer(test.service.database.db, test.service.database.capabilities).sealAll();
    const entries = async (query: string) =>
      (await test.api<{ items: Entry[] }>('GET', `/api/v1/audit?limit=1000&${query}`)).body.items;

    it('exports and prunes what retention has aged out, with the chain anchored across the cut', async () => {
      const { db, capabilities } = test.service.database;
      const fixture = await jasperFixture(test, { count: 4, prefix: '8901773' });
      const old = await test.api<{ id: string }>('POST', '/api/v1/bulk-changes', {
        body: {
          carrierAccountId: fixture.accountId,
          changeType: 'status_update',
          options: { targetStatus: 'active' },
          changes: fixture.iccids.map((iccid) => ({ iccid })),
        },
      });
      assert.equal((await waitForFinish(test, old.body.id)).status, 'completed');
      await seal();
      const exports = tempDir('bulkchange-exports-');
      try {
        const retention = new Retention({
          db,
          capabilities,
          retentionDays: 30,
          exportDir: exports.dir,
          logger: pino({ level: 'silent' }),
        });
        const swept = await retention.sweep(Date.now() + 31 * 86_400_000);
        const mine = swept.tenants.find((tenant) => tenant.tenantId === test.tenantId)!;
        assert.ok(mine.file, 'an export was written');
        assert.ok(mine.rows >= 4 && mine.auditEntries > 4, JSON.stringify(mine));
        assert.ok(mine.anchor);

        // The export verifies on its own: from its origin, link by link, to the anchor.
        const lines = readFileSync(mine.file, 'utf8')
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line));
        const origin = lines.find((line) => line.kind === 'chain_origin');
        const anchor = lines.find((line) => line.kind === 'chain_anchor');
        let hash = origin.hash as string;
        for (const entry of lines.filter((line) => line.kind === 'audit_entry') as AuditEntryRow[]) {
          hash = chainHash(hash, Number(entry.seq), entry);
          assert.equal(hash, entry.hash);
        }
        assert.deepEqual({ seq: anchor.seq, hash: anchor.hash }, mine.anchor);
        assert.equal(hash, anchor.hash);
        assert.ok(lines.some((line) => line.kind === 'row' && line.bulkChangeId === old.body.id));

        // Pruned: the rows and the entries; the bulk change and its counts stay.
        const rows = await test.api<{ items: unknown[] }>(
          'GET',
          `/api/v1/bulk-changes/${old.body.id}/changes`,
        );
        assert.equal(rows.body.items.length, 0);
        const change = await test.api<{ counts: { succeeded: number } }>(
          'GET',
          `/api/v1/bulk-changes/${old.body.id}`,
        );
        assert.equal(change.body.counts.succeeded, 4);
        assert.equal((await entries('')).length, 0);

        // What comes next chains from the anchor, and the whole still verifies.
        await test.api('PATCH', `/api/v1/carrier-accounts/${fixture.accountId}`, {
          body: { writeEnabled: false },
        });
        await seal();
        const after = await test.api<Verification & { origin: { seq: number; hash: string } }>(
          'GET',
          '/api/v1/audit/verify',
        );
        assert.equal(after.body.ok, true, JSON.stringify(after.body));
        assert.deepEqual(after.body.origin, mine.anchor);
        assert.equal(after.body.entries, 1);
      } finally {
        exports.remove();
      }
    });
  });
}
