import assert from 'node:assert/strict';
import type { TestService } from './service.ts';

/** What `POST /api/v1/bulk-changes` answers: the bulk change, or (422, 404, …) the error. */
export interface BulkChangeAnswer {
  id: string;
  status: string;
  scheduledFor: string | null;
  error?: { code: string; details: Array<{ row: number; field: string; code: string; message: string }> };
}

/** Anything that calls the API as the admin: an in-process test service, or an e2e stack of processes. */
export interface ApiCaller {
  api<T = Record<string, unknown>>(
    method: string,
    pathname: string,
    options?: { body?: unknown; key?: string | null },
  ): Promise<{ status: number; body: T; text: string }>;
}

/** Posts a bulk change as JSON, with the admin key unless `key` is given; the answer as it comes. */
export const createBulkChange = (test: ApiCaller, body: Record<string, unknown>, key?: string) =>
  test.api<BulkChangeAnswer>('POST', '/api/v1/bulk-changes', { body, key });

/** The rows of a bulk change that names each line by its ICCID alone (the change is in its options). */
export const byIccid = (iccids: string[]) => iccids.map((iccid) => ({ iccid }));

/** Asks for `changeType` with `options` for the lines in `changes`; the answer as it comes. */
export const postChange = (
  test: ApiCaller,
  accountId: string,
  changes: object[],
  changeType: string,
  options: Record<string, unknown> = {},
  extra: Record<string, unknown> = {},
) => createBulkChange(test, { carrierAccountId: accountId, changeType, options, changes, ...extra });

/** `postChange` that must be accepted (201); resolves with the bulk change's id. */
export async function submitChange(...change: Parameters<typeof postChange>): Promise<string> {
  const created = await postChange(...change);
  assert.equal(created.status, 201, created.text);
  return created.body.id;
}

/** The rows of a bulk change, up to 1,000. */
export const changesOf = async <Change>(test: TestService, id: string): Promise<Change[]> =>
  (await test.api<{ items: Change[] }>('GET', `/api/v1/bulk-changes/${id}/changes?limit=1000`)).body.items;

/**
 * Every bulk change's counts, as kept on its row, against its rows counted by status: the counts are
 * moved with the rows in the same transactions, and must never drift from them.
 */
export async function countsDrift(
  test: TestService,
): Promise<Array<{ id: string; kept: unknown; rows: unknown }>> {
  const db = test.service.database.db;
  const kept = await db
    .selectFrom('bulk_changes')
    .select([
      'id',
      'queued_count',
      'in_progress_count',
      'waiting_count',
      'succeeded_count',
      'failed_count',
      'cancelled_count',
    ])
    .execute();
  const rows = await db
    .selectFrom('device_changes')
    .select(['bulk_change_id', 'status', (eb) => eb.fn.countAll<number>().as('count')])
    .groupBy(['bulk_change_id', 'status'])
    .execute();
  const counted = new Map<string, Record<string, number>>();
  for (const row of rows) {
    const byStatus = counted.get(row.bulk_change_id) ?? {};
    byStatus[row.status] = Number(row.count);
    counted.set(row.bulk_change_id, byStatus);
  }
  return kept.flatMap((change) => {
    const fromRows = counted.get(change.id) ?? {};
    const keptCounts = {
      queued: Number(change.queued_count),
      in_progress: Number(change.in_progress_count),
      waiting: Number(change.waiting_count),
      succeeded: Number(change.succeeded_count),
      failed: Number(change.failed_count),
      cancelled: Number(change.cancelled_count),
    };
    const rowCounts = Object.fromEntries(
      Object.keys(keptCounts).map((status) => [status, fromRows[status] ?? 0]),
    );
    return JSON.stringify(keptCounts) === JSON.stringify(rowCounts)
      ? []
      : [{ id: change.id, kept: keptCounts, rows: rowCounts }];
  });
}
