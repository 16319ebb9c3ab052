import assert from 'node:assert/strict';
import type { TestService } from './service.ts';

/** What `POST /api/v1/bulk-changes` answers: the bulk change, or (422, 404, …) the error. */
export interface BulkChangeAnswer {
  id: string;
  status: string;
  scheduledFor: string | null;
  error?: { code: string; details: Array<{ row: number; field: string; code: string; message: string }> };
}

/** Posts a bulk change as JSON, with the admin key unless `key` is given; the answer as it comes. */
export const createBulkChange = (test: TestService, body: Record<string, unknown>, key?: string) =>
  test.api<BulkChangeAnswer>('POST', '/api/v1/bulk-changes', { body, key });

/** The rows of a bulk change that names each line by its ICCID alone (the change is in its options). */
export const byIccid = (iccids: string[]) => iccids.map((iccid) => ({ iccid }));

/** Asks for `changeType` with `options` for the lines in `changes`; the answer as it comes. */
export const postChange = (
  test: TestService,
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
