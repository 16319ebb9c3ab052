import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { byIccid, changesOf, createBulkChange, submitChange } from './support/bulk-changes.ts';
import { testDialects } from './support/databases.ts';
import { insertLines } from './support/inventory.ts';
import { runCli, simAdmin } from './support/processes.ts';
import { jasperFixture, serviceForSuite, testIccid, waitForFinish } from './support/service.ts';
import { thingSpaceLines } from './support/thingspace-lines.ts';

type Irreversible = {
  row: number;
  changeId: string;
  iccid: string | null;
  reason: string;
  message: string;
  code?: string;
};
type UndoCreated = {
  id: string;
  status: string;
  changeType: string;
  undoOf: string | null;
  counts: Record<string, number>;
  irreversible: Irreversible[];
  error?: { code: string; message: string; details: Array<{ row?: number; code: string; message: string }> };
};
type UndoDryRun = {
  dryRun: true;
  undoOf: string;
  summary: { total: number; wouldSucceed: number; wouldFail: number };
  rows: Array<{ row: number; iccid: string | null; outcome: string; code?: string }>;
  irreversible: Irreversible[];
};
type JasperLine = { iccid: string; state: string; ratePlan: string; communicationPlan: string };
type Row = { row: number; iccid: string; status: string; request: Record<string, unknown> };

/** The reasons of the irreversible rows, by ICCID. */
const reasonsByIccid = (rows: Irreversible[]) =>
  Object.fromEntries(rows.map((row) => [row.iccid ?? '', row.reason]));

for (const dialect of testDialects) {
  describe(`Undo on ${dialect}`, () => {
    const test = serviceForSuite(dialect);

    const undo = <T = UndoCreated>(id: string, query = '', key?: string, body?: unknown) =>
      test.api<T>('POST', `/api/v1/bulk-changes/${id}/undo${query}`, { key, body });
    const bulkChange = (id: string) =>
      test.api<{ status: string; undoOf: string | null; undoneAsId: string | null }>(
        'GET',
        `/api/v1/bulk-changes/${id}`,
      );
    /** Runs a change to its end; resolves with its id and its final status. */
    const run = async (...change: Parameters<typeof submitChange>) => {
      const id = await submitChange(...change);
      return { id, status: (await waitForFinish(test, id, 30_000)).status };
    };

    it('undoes a plan change: every line is back on its plans at the carrier, failed rows listed', async () => {
      const fixture = await jasperFixture(test, {
        count: 20,
        state: 'ACTIVATED',
        prefix: '8901481',
        unknownToCarrier: 2,
      });
      const lines = [...fixture.iccids, ...fixture.unknownToCarrier];
      const original = await run(test, fixture.accountId, byIccid(lines), 'carrier_rate_plan_change', {
        carrierRatePlan: 'IoT 100MB',
        communicationPlan: 'CP_Data_Only',
      });
      assert.equal(original.status, 'completed_with_errors');
      const moved = await simAdmin(fixture.simulatorUrl).devices<JasperLine>();
      assert.ok(
        moved.every((line) => line.ratePlan === 'IoT 100MB' && line.communicationPlan === 'CP_Data_Only'),
      );

      // The preview: 20 rows would go back, the 2 the carrier refused are listed; nothing is created.
      const preview = await undo<UndoDryRun>(original.id, '?dryRun=true');
      assert.equal(preview.status, 200, preview.text);
      assert.equal(preview.body.undoOf, original.id);
      assert.deepEqual(preview.body.summary, { total: 20, wouldSucceed: 20, wouldFail: 0, wouldSkip: 0 });
      assert.deepEqual(reasonsByIccid(preview.body.irreversible), {
        [fixture.unknownToCarrier[0]]: 'ROW_NOT_SUCCEEDED',
        [fixture.unknownToCarrier[1]]: 'ROW_NOT_SUCCEEDED',
      });
      assert.deepEqual(
        preview.body.irreversible.map((row) => row.row),
        [21, 22],
        'rows keep the numbers of the rows they reverse',
      );
      assert.equal((await bulkChange(original.id)).body.undoneAsId, null, 'a dry run creates nothing');

      // The undo: an ordinary bulk change of the same type, linked both ways.
      const created = await undo(original.id);
      assert.equal(created.status, 201, created.text);
      assert.equal(created.body.changeType, 'carrier_rate_plan_change');
      assert.equal(created.body.undoOf, original.id);
      assert.equal(created.body.counts.total, 20);
      assert.equal(created.body.irreversible.length, 2);
      assert.equal((await waitForFinish(test, created.body.id, 30_000)).status, 'completed');
      assert.equal((await bulkChange(original.id)).body.undoneAsId, created.body.id);

      // At the carrier, every line is on the plans it had before; each was changed twice in all.
      const back = await simAdmin(fixture.simulatorUrl).devices<JasperLine>();
      assert.equal(back.length, 20);
      for (const line of back) {
        assert.deepEqual(
          [line.ratePlan, line.communicationPlan],
          ['IoT Basic 1MB', 'CP_Basic_ON'],
          line.iccid,
        );
      }
      const puts = await simAdmin(fixture.simulatorUrl).calls('put_device');
      for (const iccid of fixture.iccids) {
        assert.equal(puts.filter((call) => call.iccids.includes(iccid) && call.status === 200).length, 2);
      }
      const rows = await changesOf<Row>(test, created.body.id);
      assert.deepEqual(
        rows.map((row) => [row.row, row.request.carrierRatePlan, row.request.communicationPlan]),
        fixture.iccids.map((_, index) => [index + 1, 'IoT Basic 1MB', 'CP_Basic_ON']),
      );

      // Audited on the original; undone once.
      const audit = await test.api<{ items: Array<{ response: { after: { undoneAs: string } } }> }>(
        'GET',
        `/api/v1/audit?action=bulk_change.undo&bulkChangeId=${original.id}`,
      );
      assert.equal(audit.body.items.length, 1, audit.text);
      assert.equal(audit.body.items[0].response.after.undoneAs, created.body.id);
      const again = await undo(original.id);
      assert.equal(again.status, 409, again.text);
      assert.equal(again.body.error?.code, 'ALREADY_UNDONE');
      assert.match(again.body.error?.message ?? '', new RegExp(created.body.id));
    });

    it('undoes a suspension from the CLI: every line is restored at the simulator, once', async () => {
      const lines = await thingSpaceLines(test, { prefix: '8901482', count: 8, state: 'active' });
      const original = await run(test, lines.accountId, byIccid(lines.iccids), 'status_update', {
        targetStatus: 'suspended',
      });
      assert.equal(original.status, 'completed');
      assert.ok((await lines.devices()).every((line) => line.state === 'suspend'));

      const cli = await runCli(
        ['undo', original.id, '--wait', '--url', test.url, '--key', test.adminKey],
        {},
        60_000,
      );
      assert.equal(cli.code, 0, cli.stderr);
      const undoId = cli.stdout.split('\n')[0].trim();
      assert.equal((await bulkChange(undoId)).body.undoOf, original.id);
      assert.equal((await bulkChange(undoId)).body.status, 'completed');

      const restored = await lines.devices();
      assert.equal(restored.length, 8);
      assert.ok(
        restored.every((line) => line.state === 'active'),
        JSON.stringify(restored.map((line) => line.state)),
      );
      const restores = (await lines.calls('restore')).filter((call) => call.status < 300);
      for (const iccid of lines.iccids) {
        assert.equal(restores.filter((call) => call.iccids.includes(iccid)).length, 1, iccid);
      }
      const rows = await changesOf<Row>(test, undoId);
      assert.ok(rows.every((row) => row.request.targetStatus === 'active' && row.status === 'succeeded'));

      // Once done, the CLI says so and exits 1 (a refusal).
      const twice = await runCli(
        ['undo', original.id, '--url', test.url, '--key', test.adminKey],
        {},
        60_000,
      );
      assert.equal(twice.code, 1);
      assert.match(twice.stderr, /Refused \(409 ALREADY_UNDONE\)/);
    });

    it('lists every row it cannot reverse with its reason, and reverses the rest', async () => {
      const lines = await thingSpaceLines(test, { prefix: '8901483', count: 5, state: 'active' });
      const [suspended, deactivated, laterRestored, reversed, alreadySuspended] = lines.iccids;
      // One line the carrier does not know (its row fails); one suspended already (its row changes nothing).
      const unknown = testIccid(99, '8901483');
      await insertLines(test, lines.accountId, [
        { iccid: unknown, status: 'active', carrierStatus: 'active' },
      ]);
      const before = await run(test, lines.accountId, byIccid([alreadySuspended]), 'status_update', {
        targetStatus: 'suspended',
      });
      assert.equal(before.status, 'completed');

      const original = await run(
        test,
        lines.accountId,
        [
          { iccid: suspended, targetStatus: 'suspended' },
          { iccid: deactivated, targetStatus: 'deactivated' },
          { iccid: laterRestored, targetStatus: 'suspended' },
          { iccid: reversed, targetStatus: 'suspended' },
          { iccid: alreadySuspended, targetStatus: 'suspended' },
          { iccid: unknown, targetStatus: 'suspended' },
        ],
        'status_update',
      );
      assert.equal(original.status, 'completed_with_errors', 'the unknown line failed');
      // One suspended line is restored by another change since: undo must not touch it again.
      const since = await run(test, lines.accountId, byIccid([laterRestored]), 'status_update', {
        targetStatus: 'active',
      });
      assert.equal(since.status, 'completed');

      const preview = await undo<UndoDryRun>(original.id, '?dryRun=true');
      assert.equal(preview.status, 200, preview.text);
      assert.deepEqual(
        preview.body.rows.map((row) => [row.row, row.iccid, row.outcome]),
        [
          [1, suspended, 'would_succeed'],
          [4, reversed, 'would_succeed'],
        ],
      );
      assert.deepEqual(reasonsByIccid(preview.body.irreversible), {
        [deactivated]: 'DEACTIVATION_FINAL',
        [laterRestored]: 'LINE_CHANGED_SINCE',
        [alreadySuspended]: 'LINE_NOT_CHANGED',
        [unknown]: 'ROW_NOT_SUCCEEDED',
      });
      for (const row of preview.body.irreversible) assert.ok(row.message.length > 10, row.message);
      assert.match(
        preview.body.irreversible.find((row) => row.reason === 'DEACTIVATION_FINAL')?.message ?? '',
        /ThingSpace/,
      );

      const created = await undo(original.id);
      assert.equal(created.status, 201, created.text);
      assert.equal(created.body.counts.total, 2);
      assert.equal(created.body.irreversible.length, 4);
      assert.equal((await waitForFinish(test, created.body.id, 30_000)).status, 'completed');
      const states = Object.fromEntries((await lines.devices()).map((line) => [line.iccid, line.state]));
      assert.deepEqual(
        [suspended, deactivated, laterRestored, reversed, alreadySuspended].map((iccid) => states[iccid]),
        ['active', 'deactive', 'active', 'active', 'suspend'],
      );
    });

    it('refuses what cannot be undone: running, nothing reversible, reverse refused, viewers, other tenants', async () => {
      const lines = await thingSpaceLines(test, { prefix: '8901484', count: 2, state: 'active' });

      // Still running (scheduled): a 409, and nothing created.
      const scheduled = await createBulkChange(test, {
        carrierAccountId: lines.accountId,
        changeType: 'status_update',
        options: { targetStatus: 'suspended' },
        changes: byIccid(lines.iccids),
        scheduledFor: new Date(Date.now() + 3_600_000).toISOString(),
      });
      assert.equal(scheduled.status, 201, scheduled.text);
      const running = await undo(scheduled.body.id);
      assert.equal(running.status, 409, running.text);
      assert.equal(running.body.error?.code, 'BULK_CHANGE_RUNNING');
      await test.api('POST', `/api/v1/bulk-changes/${scheduled.body.id}/cancel`);
      await waitForFinish(test, scheduled.body.id, 30_000);

      // A SIM swap is never reversed: nothing to undo, each row's reason in the details.
      const newIccid = testIccid(50, '8901485');
      const swap = await run(
        test,
        lines.accountId,
        [{ iccid: lines.iccids[0], newIccid }],
        'identifier_change',
      );
      assert.equal(swap.status, 'completed');
      const nothing = await undo(swap.id);
      assert.equal(nothing.status, 409, nothing.text);
      assert.equal(nothing.body.error?.code, 'NOTHING_TO_UNDO');
      assert.deepEqual(
        nothing.body.error?.details.map((detail) => [detail.row, detail.code]),
        [[1, 'IDENTIFIER_SWAP_FINAL']],
      );
      const cliRefusal = await runCli(
        ['undo', swap.id, '--url', test.url, '--key', test.adminKey],
        {},
        60_000,
      );
      assert.equal(cliRefusal.code, 1, cliRefusal.stderr);
      assert.match(cliRefusal.stderr, /Refused \(409 NOTHING_TO_UNDO\)/);
      assert.match(
        cliRefusal.stderr,
        /row 1\s+IDENTIFIER_SWAP_FINAL\s+An ICCID or IMEI swap/,
        'each row says why',
      );

      // Jasper lines activated from ACTIVATION_READY: Control Center does not move them back, so the
      // reverse rows fail intake's transition check; the preview says so, row by row.
      const jasper = await jasperFixture(test, { count: 3, prefix: '8901486' });
      const activated = await run(test, jasper.accountId, byIccid(jasper.iccids), 'status_update', {
        targetStatus: 'active',
      });
      assert.equal(activated.status, 'completed');
      const refused = await undo<UndoDryRun>(activated.id, '?dryRun=true');
      assert.equal(refused.status, 200, refused.text);
      assert.equal(refused.body.summary.wouldFail, 3);
      assert.deepEqual(
        refused.body.irreversible.map((row) => [row.iccid, row.reason, row.code]),
        jasper.iccids.map((iccid) => [iccid, 'REVERSE_REFUSED', 'INVALID_TRANSITION']),
      );

      const cliPreview = await runCli(
        ['undo', activated.id, '--dry-run', '--url', test.url, '--key', test.adminKey],
        {},
        60_000,
      );
      assert.equal(cliPreview.code, 1, 'a dry run with rows that would fail exits 1');
      assert.match(cliPreview.stdout, /Dry run: 3 rows; 0 would succeed, 3 would fail/);
      assert.match(
        cliPreview.stdout,
        new RegExp(`Not reversed \\(3 rows\\):[\\s\\S]*row 1\\s+${jasper.iccids[0]}\\s+REVERSE_REFUSED`),
      );

      // Options must be row fields; a viewer may not undo; another tenant sees no such change.
      const badOption = await undo(activated.id, '', undefined, { options: { colour: 'red' } });
      assert.equal(badOption.status, 422, badOption.text);
      assert.ok(
        badOption.body.error?.details.some(
          (detail) => (detail as { field?: string }).field === 'options.colour',
        ),
      );
      const viewer = await undo(activated.id, '', await test.keyFor('acme', 'viewer'));
      assert.equal(viewer.status, 403, viewer.text);
      const other = await undo(activated.id, '', await test.keyFor('other-tenant', 'admin'));
      assert.equal(other.status, 404, other.text);
      assert.equal((await bulkChange(activated.id)).body.undoneAsId, null);
    });
  });
}
