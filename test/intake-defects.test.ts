import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { luhnCheckDigit } from '../src/core/identifiers.ts';
import { testDialects } from './support/databases.ts';
import { jasperFixture, startTestService, type TestService, waitForFinish } from './support/service.ts';

type Detail = { row?: number; field?: string; code: string; message: string };
type Answer = {
  id?: string;
  counts?: { total: number };
  rejectedRows?: Detail[];
  error?: { code: string; message: string; details: Detail[] };
};

const imei14 = '35391108000123';

/**
 * Issue 6's "done when": a file with every kind of row defect gets one 422 listing each defect (row,
 * field, code, message) and creates nothing; with acceptValidRows, the valid part only. File-level
 * problems are told once.
 */
for (const dialect of testDialects) {
  describe(`a CSV with every kind of defect on ${dialect}`, () => {
    let test: TestService;
    let ready: { accountId: string; iccids: string[] };
    let active: string[];
    before(async () => {
      test = await startTestService(dialect);
      ready = await jasperFixture(test, { count: 12, prefix: '8901310' });
      // Lines of the same account in ACTIVATED, which cannot go to test_ready.
      const other = await jasperFixture(test, { count: 1, prefix: '8901311', state: 'ACTIVATED' });
      active = other.iccids;
      await test.service.database.db
        .updateTable('devices')
        .set({ carrier_account_id: ready.accountId })
        .where('iccid', 'in', active)
        .execute();
    });
    after(() => test.stop());

    const post = (csv: string, query = '') =>
      test.api<Answer>(
        'POST',
        `/api/v1/bulk-changes?carrierAccountId=${ready.accountId}&changeType=status_update${query}`,
        { body: csv, contentType: 'text/csv' },
      );
    const count = async () =>
      (
        await test.api<{ items: unknown[] }>(
          'GET',
          `/api/v1/bulk-changes?carrierAccountId=${ready.accountId}`,
        )
      ).body.items.length;

    it('lists each defect once with row, field, code and message, and creates nothing; acceptValidRows creates the rest', async () => {
      const [a, b, c, d, e, f, g, h, busy] = ready.iccids;
      // A line held by another running change (its carrier is slow: the change stays open).
      const holder = await test.api<Answer>('POST', '/api/v1/bulk-changes', {
        body: {
          carrierAccountId: ready.accountId,
          changeType: 'status_update',
          scheduledFor: new Date(Date.now() + 3_600_000).toISOString(),
          options: { targetStatus: 'active' },
          changes: [{ iccid: busy }],
        },
      });
      assert.equal(holder.status, 201, JSON.stringify(holder.body));
      const before = await count();
      // BOM, `;` separators, CRLF, quoted cells, blank lines, spaces and a trailing F: all repaired.
      const lines = [
        '\uFEFF"Sim Iccid";Status;IMEI',
        `${a};active;${imei14}`, //                         1 valid: IMEI completed to 15 digits
        ` "${b}F" ; active ;`, //                             2 valid: quotes, spaces, trailing F
        '',
        `8.90131E+18;active;`, //                           3 SCIENTIFIC_NOTATION
        `${c.slice(2)};active;`, //                          4 INVALID_ICCID (leading 89 lost)
        `${d.slice(0, -1)}${(Number(d.at(-1)) + 1) % 10};active;`, // 5 INVALID_LUHN
        `${a};active;`, //                                  6 DUPLICATE_ROW
        `${e};active;3.5391108E+13`, //                     7 SCIENTIFIC_NOTATION (imei)
        `${f};active;1234`, //                              8 INVALID_IMEI
        `89013109999999999990;active;`, //                  9 DEVICE_NOT_FOUND (valid Luhn)
        `${active[0]};test_ready;`, //                       10 INVALID_TRANSITION
        `${busy};active;`, //                               11 LINE_IN_RUNNING_CHANGE
        `${g};flying;`, //                                  12 INVALID_FIELD (targetStatus)
        `;active;`, //                                      13 REQUIRED
        `${h};active;;extra`, //                            14 TOO_MANY_CELLS
        '',
      ];
      const csv = lines.join('\r\n').replace('89013109999999999990', withLuhn('8901310999999999999'));
      const refused = await post(csv);
      assert.equal(refused.status, 422, JSON.stringify(refused.body));
      const details = refused.body.error!.details;
      assert.deepEqual(
        details.map((detail) => `${detail.row}:${detail.field}:${detail.code}`),
        [
          '14:undefined:TOO_MANY_CELLS',
          '3:iccid:SCIENTIFIC_NOTATION',
          '4:iccid:INVALID_ICCID',
          '5:iccid:INVALID_LUHN',
          '6:iccid:DUPLICATE_ROW',
          '7:imei:SCIENTIFIC_NOTATION',
          '8:imei:INVALID_IMEI',
          '12:targetStatus:INVALID_FIELD',
          '13:iccid:REQUIRED',
          '9:iccid:DEVICE_NOT_FOUND',
          '10:targetStatus:INVALID_TRANSITION',
          '11:undefined:LINE_IN_RUNNING_CHANGE',
        ],
      );
      for (const detail of details) assert.ok(detail.message.length > 10, JSON.stringify(detail));
      const messageOf = (row: number) => details.find((detail) => detail.row === row)?.message;
      assert.match(messageOf(5) ?? '', /check digit/);
      assert.match(messageOf(4) ?? '', /leading 89 seems lost/);
      assert.equal(await count(), before, 'nothing created');

      const accepted = await post(csv, '&acceptValidRows=true');
      assert.equal(accepted.status, 201, JSON.stringify(accepted.body));
      assert.equal(accepted.body.counts?.total, 2);
      assert.equal(accepted.body.rejectedRows?.length, 12);
      const rows = await test.api<{ items: Array<{ row: number; iccid: string }> }>(
        'GET',
        `/api/v1/bulk-changes/${accepted.body.id}/changes`,
      );
      assert.deepEqual(
        rows.body.items.map((row) => [row.row, row.iccid]),
        [
          [1, a],
          [2, b],
        ],
      );
      assert.equal((await waitForFinish(test, accepted.body.id!)).status, 'completed');
    });

    it('finds a line repeated far apart in a long file (in another batch), written or dry-run', async () => {
      const [line, other] = ready.iccids.slice(10, 12);
      const filler = Array.from({ length: 600 }, (_, index) =>
        withLuhn(`89013109${String(index).padStart(11, '0')}`),
      );
      const csv = [
        'iccid,target_status',
        `${line},active`,
        ...filler.map((iccid) => `${iccid},active`),
        `${other},active`,
        `${line},active`,
      ].join('\n');
      const duplicateRow = filler.length + 3;
      for (const query of ['&dryRun=true', '&acceptValidRows=true']) {
        const answer = await post(csv, query);
        const details =
          answer.body.error?.details ??
          answer.body.rejectedRows ??
          (answer.body as { rows?: Detail[] }).rows ??
          [];
        const duplicate = details.find((detail) => detail.row === duplicateRow);
        assert.equal(duplicate?.code, 'DUPLICATE_ROW', `${query}: ${JSON.stringify(duplicate)}`);
        assert.match(duplicate?.message ?? '', /already in row 1\b/);
      }
    });

    it('tells file-level problems once: a missing column, an unknown one; acceptValidRows does not override them', async () => {
      const csv = ['iccid,colour', ...ready.iccids.slice(0, 5).map((iccid) => `${iccid},blue`)].join('\n');
      for (const query of ['', '&acceptValidRows=true']) {
        const refused = await post(csv, query);
        assert.equal(refused.status, 422);
        assert.deepEqual(
          refused.body.error!.details.map((detail) => [detail.row, detail.field, detail.code]),
          [
            [undefined, 'colour', 'UNKNOWN_COLUMN'],
            [undefined, 'targetStatus', 'MISSING_COLUMN'],
          ],
        );
      }
      // Given once as an option, the column is not needed.
      const dry = await post(`iccid\n${ready.iccids[9]}\n`, '&targetStatus=active&dryRun=true');
      assert.equal(dry.status, 200, JSON.stringify(dry.body));
    });
  });
}

function withLuhn(payload: string): string {
  return payload + luhnCheckDigit(payload);
}
