import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openPostgres, openSqliteFile } from '../../src/db/database.ts';
import { testDialects } from '../support/databases.ts';
import { countBy, type E2eStack, startE2eStack } from '../support/e2e-stack.ts';
import { runCli, type SimCall, sleep, waitForBulkChange, waitUntil } from '../support/processes.ts';

/** The blast-radius window of this deployment: short, so the cap's window passes within the test. */
const WINDOW_MS = 4_000;

interface View {
  id: string;
  status: string;
  counts: Record<string, number>;
  pause: { reason: string; by: string; detail: Record<string, unknown> } | null;
  approval: {
    requiredBecause: { action: string; lines: number; aboveLines: number };
    decision: { outcome: string; by: string; byName: string; note: string | null } | null;
  } | null;
}

interface Refusal {
  error: { code: string; message: string };
}

/** Each line's accepted status changes at the simulator: a line changed twice shows 2. */
const acceptedPerLine = (calls: SimCall[]) =>
  countBy(
    calls.filter((call) => call.action === 'put_device' && call.status === 200),
    (call) => call.iccids[0],
  );

/** When each row of a bulk change was first sent (the blast-radius cap's count), read from its database. */
async function firstSends(location: string, bulkChangeId: string): Promise<number[]> {
  const handle = location.startsWith('postgres') ? openPostgres(location, 2) : openSqliteFile(location);
  try {
    const rows = await handle.db
      .selectFrom('device_changes')
      .select('destructive_sent_at')
      .where('bulk_change_id', '=', bulkChangeId)
      .execute();
    return rows.flatMap((row) => (row.destructive_sent_at === null ? [] : [Number(row.destructive_sent_at)]));
  } finally {
    await handle.close();
  }
}

for (const dialect of testDialects) {
  describe(`approvals (four eyes) and the blast-radius cap, through real processes, on ${dialect}`, () => {
    let stack: E2eStack;
    const keys = { approver: '', operator: '', approverId: '' };

    before(async () => {
      stack = await startE2eStack({
        dialect,
        env: { BLAST_RADIUS_WINDOW_MS: String(WINDOW_MS) },
        // Several processes start at once on a busy machine.
        startTimeoutMs: 120_000,
      });
      await stack.startServer();
      for (const role of ['approver', 'operator'] as const) {
        const created = await runCli(
          ['keys', 'create', '--tenant', 'acme', '--role', role],
          stack.env,
          stack.startTimeoutMs,
        );
        assert.equal(created.code, 0, created.stderr);
        keys[role] = created.stdout.trim();
      }
      const listed = await stack.api<{ items: Array<{ id: string; role: string }> }>(
        'GET',
        '/api/v1/api-keys',
      );
      keys.approverId = listed.body.items.find((key) => key.role === 'approver')?.id ?? '';
      assert.ok(keys.approverId, listed.text);
    });
    after(() => stack?.close());

    const view = async (id: string) => (await stack.api<View>('GET', `/api/v1/bulk-changes/${id}`)).body;
    const setPolicy = async (policy: {
      approvalAboveLines: number | null;
      destructiveLinesPerHour: number | null;
    }) => {
      const set = await stack.api('PUT', '/api/v1/approval-policy', { body: policy });
      assert.equal(set.status, 200, set.text);
    };
    const deactivate = async (accountId: string, iccids: string[], key?: string) => {
      const created = await stack.api<View>('POST', '/api/v1/bulk-changes', {
        key,
        body: {
          carrierAccountId: accountId,
          changeType: 'status_update',
          options: { targetStatus: 'deactivated' },
          changes: iccids.map((iccid) => ({ iccid })),
        },
      });
      assert.equal(created.status, 201, created.text);
      return created.body;
    };
    const callsFor = async (iccids: string[]) => {
      const lines = new Set(iccids);
      return (await stack.sim.calls()).filter((call) => call.iccids.some((iccid) => lines.has(iccid)));
    };

    it('caps destructive line changes per window: the change waits with reason and resumeAt, then resumes by itself', async () => {
      await setPolicy({ approvalAboveLines: null, destructiveLinesPerHour: 40 });
      const { accountId, iccids } = await stack.createJasperAccount({
        limits: { requestsPerSecond: 200, maxConcurrent: 4 },
        count: 100,
        prefix: '8901601',
        state: 'ACTIVATED',
      });
      const created = await deactivate(accountId, iccids);

      const capped = await waitUntil('the cap reached', async () => {
        const now = await view(created.id);
        return now.pause?.reason === 'blast_radius_cap' ? now : undefined;
      });
      assert.equal(capped.status, 'paused');
      assert.equal(capped.pause?.by, 'engine');
      assert.equal(capped.pause?.detail.destructiveLinesPerHour, 40);
      assert.equal(capped.pause?.detail.sentInWindow, 40);
      assert.ok(
        Date.parse(String(capped.pause?.detail.resumeAt)) > Date.now() - WINDOW_MS,
        'resumeAt is a time',
      );

      const done = await waitForBulkChange(stack.api, created.id, 60_000);
      assert.equal(done.status, 'completed', JSON.stringify(done.counts));
      const accepted = acceptedPerLine(await callsFor(iccids));
      assert.deepEqual(
        iccids.filter((iccid) => accepted.get(iccid) !== 1),
        [],
        'every line changed exactly once',
      );
      // The cap held at every moment: no window of the deployment's length saw more than 40 lines sent
      // (each line counted at its first send, as the engine counts it).
      const sentAt = await firstSends(stack.databaseLocation, created.id);
      assert.equal(sentAt.length, 100);
      const busiest = Math.max(
        ...sentAt.map((at) => sentAt.filter((other) => other > at - WINDOW_MS && other <= at).length),
      );
      assert.equal(busiest, 40, 'at most 40 lines in any window');
      const log = await stack.api<{ items: Array<{ action: string; actor: string }> }>(
        'GET',
        `/api/v1/bulk-changes/${created.id}/log?limit=1000`,
      );
      const pauses = log.body.items.filter((entry) => entry.action === 'bulk_change.pause');
      const resumes = log.body.items.filter((entry) => entry.action === 'bulk_change.resume');
      // 100 lines at 40 a window: two waits, each ended by the engine.
      assert.ok(pauses.length >= 2, `paused ${pauses.length} times`);
      assert.equal(resumes.length, pauses.length);
      assert.ok(resumes.every((entry) => entry.actor === 'engine'));
    });

    it('holds a 500-line deactivation for approval: nothing sent, its creator refused, a second key with the approver role approves it', async () => {
      await setPolicy({ approvalAboveLines: 100, destructiveLinesPerHour: null });
      const policy = await stack.api('GET', '/api/v1/approval-policy', { key: keys.operator });
      assert.equal(policy.status, 403, 'the policy is for admins');
      const { accountId, iccids } = await stack.createJasperAccount({
        limits: { requestsPerSecond: 200, maxConcurrent: 4 },
        count: 500,
        prefix: '8901602',
        state: 'ACTIVATED',
      });
      const created = await deactivate(accountId, iccids);
      assert.equal(created.status, 'awaiting_approval');
      assert.deepEqual(created.approval?.requiredBecause, {
        action: 'deactivate',
        lines: 500,
        aboveLines: 100,
      });
      assert.equal(created.approval?.decision, null);

      await sleep(1_500);
      assert.equal((await view(created.id)).status, 'awaiting_approval');
      assert.deepEqual(await callsFor(iccids), [], 'no carrier call while awaiting approval');
      const held = await stack.api<{ items: View[] }>('GET', '/api/v1/bulk-changes?status=awaiting_approval');
      assert.deepEqual(
        held.body.items.map((item) => item.id),
        [created.id],
      );

      const own = await stack.api<Refusal>('POST', `/api/v1/bulk-changes/${created.id}/approve`, {
        body: {},
      });
      assert.equal(own.status, 403, own.text);
      assert.equal(own.body.error.code, 'SELF_APPROVAL');
      const operator = await stack.api<Refusal>('POST', `/api/v1/bulk-changes/${created.id}/approve`, {
        key: keys.operator,
        body: {},
      });
      assert.equal(operator.status, 403, operator.text);
      assert.equal(operator.body.error.code, 'FORBIDDEN');
      assert.deepEqual(await callsFor(iccids), [], 'still nothing sent');

      // The approver approves from the CLI.
      const approved = await runCli(
        [
          'approve',
          created.id,
          '--note',
          'checked the list with the fleet owner',
          '--url',
          stack.url,
          '--key',
          keys.approver,
        ],
        stack.env,
        stack.startTimeoutMs,
      );
      assert.equal(approved.code, 0, approved.stderr);
      assert.match(approved.stdout, new RegExp(`Bulk change ${created.id}: (queued|processing|completed)`));
      const again = await stack.api<Refusal>('POST', `/api/v1/bulk-changes/${created.id}/approve`, {
        key: keys.approver,
        body: {},
      });
      assert.equal(again.status, 409);
      assert.equal(again.body.error.code, 'BULK_CHANGE_NOT_AWAITING_APPROVAL');

      const done = await waitForBulkChange(stack.api, created.id, 120_000);
      assert.equal(done.status, 'completed', JSON.stringify(done.counts));
      assert.equal(done.counts.succeeded, 500);
      const accepted = acceptedPerLine(await callsFor(iccids));
      assert.deepEqual(
        iccids.filter((iccid) => accepted.get(iccid) !== 1),
        [],
        'every line deactivated exactly once',
      );
      const decided = await view(created.id);
      assert.equal(decided.approval?.decision?.outcome, 'approved');
      assert.equal(decided.approval?.decision?.by, `key:${keys.approverId}`);
      assert.equal(decided.approval?.decision?.note, 'checked the list with the fleet owner');
      const log = await stack.api<{ items: Array<{ action: string; actor: string }> }>(
        'GET',
        `/api/v1/bulk-changes/${created.id}/log?limit=1000`,
      );
      const approvals = log.body.items.filter((entry) => entry.action === 'bulk_change.approve');
      assert.deepEqual(
        approvals.map((entry) => entry.actor),
        [`key:${keys.approverId}`],
      );
    });

    it('rejects with a note: the change is cancelled, nothing is sent, and its lines are free again', async () => {
      await setPolicy({ approvalAboveLines: 100, destructiveLinesPerHour: null });
      const { accountId, iccids } = await stack.createJasperAccount({
        limits: { requestsPerSecond: 200, maxConcurrent: 4 },
        count: 150,
        prefix: '8901603',
        state: 'ACTIVATED',
      });
      const created = await deactivate(accountId, iccids, keys.operator);
      assert.equal(created.status, 'awaiting_approval');

      const noNote = await stack.api<Refusal>('POST', `/api/v1/bulk-changes/${created.id}/reject`, {
        key: keys.approver,
        body: {},
      });
      assert.equal(noNote.status, 422, 'a rejection says why');
      const rejected = await stack.api<View>('POST', `/api/v1/bulk-changes/${created.id}/reject`, {
        key: keys.approver,
        body: { note: 'wrong customer' },
      });
      assert.equal(rejected.status, 200, rejected.text);
      assert.equal(rejected.body.status, 'cancelled');
      assert.equal(rejected.body.counts.cancelled, 150);
      assert.equal(rejected.body.approval?.decision?.outcome, 'rejected');
      assert.equal(rejected.body.approval?.decision?.note, 'wrong customer');
      await sleep(500);
      assert.deepEqual(await callsFor(iccids), [], 'nothing sent for a rejected change');

      // Its lines are free: a new change for them is accepted (and held again, by the same policy).
      const next = await deactivate(accountId, iccids, keys.operator);
      assert.equal(next.status, 'awaiting_approval');
      const cancelled = await stack.api<View>('POST', `/api/v1/bulk-changes/${next.id}/cancel`, {
        key: keys.operator,
      });
      assert.equal(cancelled.status, 200, cancelled.text);
      const ended = await waitForBulkChange(stack.api, next.id);
      assert.equal(ended.status, 'cancelled');
      assert.deepEqual(await callsFor(iccids), [], 'nothing sent for a cancelled change either');
    });
  });
}
