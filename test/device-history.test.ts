import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { byIccid, changesOf, submitChange } from './support/bulk-changes.ts';
import { testDialects } from './support/databases.ts';
import { insertLines } from './support/inventory.ts';
import { jasperFixture, serviceForSuite, testIccid, waitForFinish } from './support/service.ts';
import { thingSpaceLines } from './support/thingspace-lines.ts';

type Entry = {
  id: string;
  at: string;
  field: string;
  before: string | null;
  after: string | null;
  bulkChangeId: string;
  changeType: string;
  changeId: string;
  row: number;
  actor: { id: string; name: string | null };
  carrierAccountId: string;
};
type History = { deviceId: string; items: Entry[]; nextCursor: string | null };

for (const dialect of testDialects) {
  describe(`Device history on ${dialect}`, () => {
    const test = serviceForSuite(dialect);

    const historyOf = (reference: string, query = '', key?: string) =>
      test.api<History>('GET', `/api/v1/devices/${reference}/history${query}`, { key });
    /** Who the audit log says created the bulk change. */
    const creatorOf = async (bulkChangeId: string) => {
      const entries = await test.api<{ items: Array<{ actor: string }> }>(
        'GET',
        `/api/v1/audit?action=bulk_change.create&bulkChangeId=${bulkChangeId}`,
      );
      assert.equal(entries.body.items.length, 1, entries.text);
      return entries.body.items[0].actor;
    };
    /** Runs a change to the end; it must complete. */
    const run = async (...change: Parameters<typeof submitChange>) => {
      const id = await submitChange(...change);
      assert.equal((await waitForFinish(test, id, 30_000)).status, 'completed');
      return id;
    };

    it('follows a line through a status change, a plan change and a SIM swap, by any current identifier', async () => {
      const lines = await thingSpaceLines(test, { prefix: '8901720', count: 1, state: 'suspend' });
      const [oldIccid] = lines.iccids;
      const newIccid = testIccid(1, '8901721');
      const operatorKey = await test.keyFor('acme', 'operator');

      const restore = await run(
        { api: (method, path, options) => test.api(method, path, { ...options, key: operatorKey }) },
        lines.accountId,
        byIccid([oldIccid]),
        'status_update',
        { targetStatus: 'active' },
      );
      const plan = await run(test, lines.accountId, byIccid([oldIccid]), 'carrier_rate_plan_change', {
        carrierRatePlan: 'M2M4G5GB',
      });
      const swap = await run(test, lines.accountId, [{ iccid: oldIccid, newIccid }], 'identifier_change');

      // The line is found by its new ICCID, and its history holds all three changes, newest first.
      const history = await historyOf(newIccid);
      assert.equal(history.status, 200, history.text);
      const byChange = Map.groupBy(history.body.items, (entry) => entry.bulkChangeId);
      assert.deepEqual(
        [...byChange.keys()],
        [swap, plan, restore],
        'one change after the other, newest first',
      );
      const field = (bulkChangeId: string, name: string) =>
        byChange.get(bulkChangeId)?.find((entry) => entry.field === name);
      assert.deepEqual(
        [field(restore, 'status')?.before, field(restore, 'status')?.after],
        ['suspended', 'active'],
      );
      assert.deepEqual(
        [field(restore, 'carrierStatus')?.before, field(restore, 'carrierStatus')?.after],
        ['suspend', 'active'],
      );
      assert.equal(field(plan, 'carrierRatePlan')?.after, 'M2M4G5GB');
      assert.deepEqual([field(swap, 'iccid')?.before, field(swap, 'iccid')?.after], [oldIccid, newIccid]);
      assert.deepEqual(
        [...new Set(byChange.get(plan)?.map((entry) => entry.field))],
        ['carrierRatePlan'],
        'a plan change records the plan alone',
      );

      // Who: the key that created each bulk change, as the audit log names it; links to each row.
      for (const [bulkChangeId, changeType] of [
        [restore, 'status_update'],
        [plan, 'carrier_rate_plan_change'],
        [swap, 'identifier_change'],
      ]) {
        const actor = await creatorOf(bulkChangeId);
        const [row] = await changesOf<{ id: string; row: number }>(test, bulkChangeId);
        for (const entry of byChange.get(bulkChangeId) ?? []) {
          assert.equal(entry.actor.id, actor);
          assert.equal(entry.changeId, row.id);
          assert.equal(entry.row, 1);
          assert.equal(entry.changeType, changeType);
          assert.equal(entry.carrierAccountId, lines.accountId);
        }
      }
      assert.notEqual(field(restore, 'status')?.actor.id, field(plan, 'carrierRatePlan')?.actor.id);
      assert.equal(field(restore, 'status')?.actor.name, 'operator key');

      // The same history by the line's id; the old ICCID names no line any more.
      const byId = await historyOf(history.body.deviceId);
      assert.deepEqual(byId.body.items, history.body.items);
      assert.equal((await historyOf(oldIccid)).status, 404);

      // Paged like every list: one entry a page, newest first, all of them in the end.
      const paged: Entry[] = [];
      for (let cursor: string | null = ''; cursor !== null; ) {
        const page = await historyOf(newIccid, `?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
        assert.equal(page.status, 200, page.text);
        paged.push(...page.body.items);
        cursor = page.body.nextCursor;
      }
      assert.deepEqual(paged, history.body.items);
      assert.equal((await historyOf(newIccid, '?cursor=abc')).status, 422);

      // The answer's shape is in the OpenAPI document.
      const openApi = await test.api<{
        paths: Record<string, { get?: { responses?: Record<string, { content?: unknown }> } }>;
      }>('GET', '/api/openapi.json');
      const documented = openApi.body.paths['/api/v1/devices/{id}/history']?.get?.responses?.['200'];
      assert.match(JSON.stringify(documented?.content), /"before".*"after".*"actor"/);

      // Another tenant sees no such line, by id or by identifier.
      const otherKey = await test.keyFor('other-tenant', 'admin');
      for (const reference of [history.body.deviceId, newIccid]) {
        const hidden = await historyOf(reference, '', otherKey);
        assert.equal(hidden.status, 404);
        assert.equal((hidden.body as unknown as { error: { code: string } }).error.code, 'NOT_FOUND');
      }
    });

    it('writes no history for a failed row, and refuses an identifier that names two lines', async () => {
      const lines = await jasperFixture(test, { count: 1, unknownToCarrier: 1, prefix: '8901722' });
      const [known, unknown] = [lines.iccids[0], lines.unknownToCarrier[0]];
      const id = await submitChange(test, lines.accountId, byIccid([known, unknown]), 'status_update', {
        targetStatus: 'active',
      });
      const done = await waitForFinish(test, id, 30_000);
      assert.deepEqual([done.counts.succeeded, done.counts.failed], [1, 1]);

      const changed = await historyOf(known);
      assert.deepEqual(
        changed.body.items.find((entry) => entry.field === 'status'),
        {
          ...changed.body.items.find((entry) => entry.field === 'status'),
          before: 'activation_ready',
          after: 'active',
          bulkChangeId: id,
        },
      );
      const failed = await historyOf(unknown);
      assert.equal(failed.status, 200, failed.text);
      assert.deepEqual(failed.body.items, [], 'the carrier refused the line: nothing changed on it');

      // The same ICCID on a second account of the tenant: the ICCID alone names neither line.
      const other = await jasperFixture(test, { count: 0, unknownToCarrier: 0, prefix: '8901723' });
      await insertLines(test, other.accountId, [{ iccid: known, status: 'active' }]);
      const ambiguous = await historyOf(known);
      assert.equal(ambiguous.status, 409, ambiguous.text);
      assert.equal((ambiguous.body as unknown as { error: { code: string } }).error.code, 'AMBIGUOUS_LINE');
    });
  });
}
