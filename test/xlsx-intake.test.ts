import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { XLSX_CONTENT_TYPE } from '../src/bulk-changes/upload-input.ts';
import { changesOf } from './support/bulk-changes.ts';
import { testDialects } from './support/databases.ts';
import { simAdmin } from './support/processes.ts';
import { jasperFixture, serviceForSuite, startTestService, waitForFinish } from './support/service.ts';
import { xlsxFile } from './support/xlsx.ts';

type ErrorBody = {
  error: {
    code: string;
    message: string;
    details: Array<{ row?: number; field?: string; code: string; message: string }>;
  };
};

for (const dialect of testDialects) {
  describe(`XLSX intake on ${dialect}`, () => {
    const test = serviceForSuite(dialect);

    const postXlsx = (file: Buffer, accountId: string, query = '', changeType = 'status_update') =>
      test.api<ErrorBody & { id: string; counts: { total: number } }>(
        'POST',
        `/api/v1/bulk-changes?carrierAccountId=${accountId}&changeType=${changeType}${query}`,
        { body: file, contentType: XLSX_CONTENT_TYPE },
      );
    const postMultipart = async (file: Buffer, name: string, fields: Record<string, string>) => {
      const form = new FormData();
      for (const [key, value] of Object.entries(fields)) form.append(key, value);
      form.append('file', new Blob([new Uint8Array(file)]), name);
      const response = await fetch(`${test.url}/api/v1/bulk-changes`, {
        method: 'POST',
        headers: { authorization: `Bearer ${test.adminKey}` },
        body: form,
      });
      return {
        status: response.status,
        body: (await response.json()) as ErrorBody & Record<string, unknown>,
      };
    };
    const bulkChangesOf = async (accountId: string) =>
      (await test.api<{ items: unknown[] }>('GET', `/api/v1/bulk-changes?carrierAccountId=${accountId}`)).body
        .items;

    it('runs an XLSX body as it would run the same CSV: header aliases, text cells, every row', async () => {
      const fixture = await jasperFixture(test, { count: 30, prefix: '8901501' });
      const file = await xlsxFile({
        Lines: [['SIM', 'New Status'], ...fixture.iccids.map((iccid) => [iccid, 'test_ready'])],
        // Only the first sheet is read.
        Notes: [['colour'], ['blue']],
      });
      const created = await postXlsx(file, fixture.accountId);
      assert.equal(created.status, 201, created.text);
      assert.equal(created.body.counts.total, 30);
      assert.equal((await waitForFinish(test, created.body.id)).status, 'completed');
      const rows = await changesOf<{ row: number; iccid: string }>(test, created.body.id);
      assert.deepEqual(
        rows.map((row) => [row.row, row.iccid]),
        fixture.iccids.map((iccid, index) => [index + 1, iccid]),
      );
      assert.ok(
        (await simAdmin(fixture.simulatorUrl).devices()).every((line) => line.state === 'TEST_READY'),
      );
    });

    it('takes an .xlsx in a multipart upload, whatever type the browser gave it, with dates as dates', async () => {
      const fixture = await jasperFixture(test, { count: 3, prefix: '8901502' });
      // A date cell (a day a month ahead, as Control Center takes at most 180 days) is the date itself.
      const day = new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10);
      const date = { value: new Date(`${day}T00:00:00Z`), numFmt: 'dd/mm/yyyy' };
      const file = await xlsxFile({
        Plans: [
          ['iccid', 'rate_plan', 'effective date'],
          ...fixture.iccids.map((iccid) => [iccid, 'IoT 100MB', date]),
        ],
      });
      const created = await postMultipart(file, 'plans.xlsx', {
        carrierAccountId: fixture.accountId,
        changeType: 'carrier_rate_plan_change',
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const rows = await changesOf<{ request: Record<string, unknown> }>(test, created.body.id as string);
      assert.deepEqual(
        rows.map((row) => [row.request.carrierRatePlan, row.request.effectiveDate]),
        fixture.iccids.map(() => ['IoT 100MB', day]),
      );
    });

    it('refuses every bad row with its row, field and code, as for a CSV, and creates nothing', async () => {
      const fixture = await jasperFixture(test, { count: 4, prefix: '8901503' });
      const [a, b, c, d] = fixture.iccids;
      const file = await xlsxFile({
        Lines: [
          ['ICCID', 'Target Status'],
          [a, 'active'],
          // Typed as a number, a 19-digit ICCID has lost its last digits.
          [Number(b), 'active'],
          [`${c.slice(0, -1)}${(Number(c.at(-1)) + 1) % 10}`, 'active'],
          [{ formula: 'A2', result: undefined } as never, 'active'],
          [d, { error: '#N/A' } as never],
          [a, 'active'],
        ],
      });
      const refused = await postXlsx(file, fixture.accountId);
      assert.equal(refused.status, 422, refused.text);
      assert.equal(refused.body.error.code, 'VALIDATION_FAILED');
      assert.deepEqual(
        refused.body.error.details.map((detail) => `${detail.row}:${detail.field}:${detail.code}`),
        [
          // What the reader could not read, then what the checks refused, as for a CSV.
          '2:iccid:NUMBER_NOT_EXACT',
          '4:iccid:UNREADABLE_CELL',
          '5:targetStatus:UNREADABLE_CELL',
          '3:iccid:INVALID_LUHN',
          '6:iccid:DUPLICATE_ROW',
        ],
      );
      const exact = refused.body.error.details.find((detail) => detail.code === 'NUMBER_NOT_EXACT')!;
      assert.match(exact.message, /Format the column as Text/);
      assert.deepEqual(await bulkChangesOf(fixture.accountId), []);

      // The caller may take the valid rows, as with a CSV.
      const accepted = await postXlsx(file, fixture.accountId, '&acceptValidRows=true');
      assert.equal(accepted.status, 201, accepted.text);
      assert.equal(accepted.body.counts.total, 1);
    });

    it('says what is wrong with a workbook it cannot read, with a 4xx and a code of its own', async () => {
      const fixture = await jasperFixture(test, { count: 1, prefix: '8901504' });
      const good = await xlsxFile({
        Lines: [
          ['iccid', 'target_status'],
          [fixture.iccids[0], 'active'],
        ],
      });
      const encrypted = Buffer.concat([
        Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]),
        Buffer.alloc(512, 0),
      ]);
      const cases: Array<[string, Buffer, string, number]> = [
        ['encrypted', encrypted, 'XLSX_ENCRYPTED', 422],
        ['truncated', good.subarray(0, Math.floor(good.length / 2)), 'INVALID_XLSX', 422],
        ['not a workbook', Buffer.from('iccid,target_status\n'), 'INVALID_XLSX', 422],
        ['no sheet', await xlsxFile({}), 'XLSX_NO_SHEET', 422],
        ['no header', await xlsxFile({ Empty: [] }), 'VALIDATION_FAILED', 422],
      ];
      for (const [name, file, code, status] of cases) {
        const response = await postXlsx(file, fixture.accountId);
        assert.equal(response.status, status, `${name}: ${response.text}`);
        assert.equal(response.body.error.code, code, name);
        assert.ok(response.body.error.message.length > 10, name);
      }
      // In multipart, a file named .xlsx is read as one, and its problems are the same.
      const named = await postMultipart(encrypted, 'locked.xlsx', {
        carrierAccountId: fixture.accountId,
        changeType: 'status_update',
      });
      assert.equal(named.status, 422);
      assert.equal(named.body.error.code, 'XLSX_ENCRYPTED');
      const misnamed = await postMultipart(Buffer.from('iccid\n'), 'lines.xlsx', {
        carrierAccountId: fixture.accountId,
        changeType: 'status_update',
      });
      assert.equal(misnamed.body.error.code, 'INVALID_XLSX');
      assert.deepEqual(await bulkChangesOf(fixture.accountId), []);
    });
  });
}

describe('XLSX intake within the upload limit', () => {
  it('answers 413 when the workbook is larger than MAX_UPLOAD_BYTES, in a body or a part', async () => {
    const test = await startTestService('sqlite', { MAX_UPLOAD_BYTES: '8192' });
    try {
      const { accountId, iccids } = await jasperFixture(test, { count: 1, prefix: '8901505' });
      // Random text does not compress: the workbook is well over the limit.
      const noise = (index: number) => `${index}-${Math.random().toString(36).repeat(3)}`;
      const file = await xlsxFile({
        Lines: [
          ['iccid', 'username'],
          ...Array.from({ length: 2000 }, (_, index) => [iccids[0], noise(index)]),
        ],
      });
      assert.ok(file.length > 8192);
      const response = await test.api<ErrorBody>(
        'POST',
        `/api/v1/bulk-changes?carrierAccountId=${accountId}&changeType=status_update`,
        { body: file, contentType: XLSX_CONTENT_TYPE },
      );
      assert.equal(response.status, 413, response.text);
    } finally {
      await test.stop();
    }
  });
});
