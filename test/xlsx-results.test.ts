import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { resultsHeader } from '../src/bulk-changes/results-csv.ts';
import { XLSX_CONTENT_TYPE } from '../src/bulk-changes/upload-input.ts';
import { byIccid, submitChange } from './support/bulk-changes.ts';
import { testDialects } from './support/databases.ts';
import { simAdmin } from './support/processes.ts';
import { jasperFixture, serviceForSuite, waitForFinish } from './support/service.ts';
import { xlsxFile, xlsxRows } from './support/xlsx.ts';

for (const dialect of testDialects) {
  describe(`results as XLSX on ${dialect}`, () => {
    const test = serviceForSuite(dialect);

    const download = async (id: string) => {
      const response = await fetch(`${test.url}/api/v1/bulk-changes/${id}/results.xlsx`, {
        headers: { authorization: `Bearer ${test.adminKey}` },
      });
      return { response, file: Buffer.from(await response.arrayBuffer()) };
    };

    it('has the columns and values of results.csv, the header bold and frozen, identifiers as text', async () => {
      const fixture = await jasperFixture(test, { count: 3, prefix: '8901601', unknownToCarrier: 1 });
      const lines = [...fixture.iccids, ...fixture.unknownToCarrier];
      const id = await submitChange(test, fixture.accountId, byIccid(lines), 'status_update', {
        targetStatus: 'active',
      });
      assert.equal((await waitForFinish(test, id)).status, 'completed_with_errors');
      const { response, file } = await download(id);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('content-type'), XLSX_CONTENT_TYPE);
      assert.match(response.headers.get('content-disposition') ?? '', /bulk-change-.+\.xlsx/);

      const { rows } = await xlsxRows(file);
      assert.deepEqual(rows[0], resultsHeader);
      const csv: string[][] = parse((await test.api('GET', `/api/v1/bulk-changes/${id}/results.csv`)).text);
      assert.equal(rows.length, csv.length);
      for (const [index, row] of rows.entries()) {
        const cells = resultsHeader.map((_, column) => row[column] ?? '');
        assert.deepEqual(
          cells.map((cell) => String(cell)),
          csv[index],
          `line ${index}: the same values as the CSV`,
        );
      }
      const iccid = resultsHeader.indexOf('iccid');
      assert.ok(rows.slice(1).every((row) => typeof row[iccid] === 'string' && row[iccid].length >= 19));
      assert.equal(rows[1][0], 1, 'the row number is a number');
      const errors = rows.slice(1).map((row) => row[resultsHeader.indexOf('error_code')]);
      assert.deepEqual(errors, [undefined, undefined, undefined, 'DEVICE_NOT_FOUND']);

      // Frozen and bold are what a spreadsheet shows: read with the whole-workbook reader (a test's file).
      const workbook = new ExcelJS.Workbook();
      await workbook.xlsx.load(new Uint8Array(file).buffer);
      const sheet = workbook.worksheets[0];
      assert.equal(sheet.views[0]?.state, 'frozen');
      assert.equal((sheet.views[0] as { ySplit?: number }).ySplit, 1);
      assert.equal(sheet.getRow(1).getCell(1).font?.bold, true);
      assert.equal(sheet.getRow(2).getCell(iccid + 1).type, ExcelJS.ValueType.String);
    });

    it('round-trips: the results downloaded, a column edited, uploaded again as a new change', async () => {
      const fixture = await jasperFixture(test, { count: 5, prefix: '8901602' });
      const first = await submitChange(test, fixture.accountId, byIccid(fixture.iccids), 'status_update', {
        targetStatus: 'active',
      });
      assert.equal((await waitForFinish(test, first)).status, 'completed');
      const { rows } = await xlsxRows((await download(first)).file);
      // What an operator does in a spreadsheet: keep the lines and the target column, change the target.
      const header = rows[0] as string[];
      const keep = ['iccid', 'target_status'].map((name) => header.indexOf(name));
      const edited = [
        ['iccid', 'target_status'],
        ...rows.slice(1).map((row) => {
          assert.equal(row[keep[1]], 'active');
          return [row[keep[0]] as string, 'deactivated'];
        }),
      ];
      const again = await test.api<{ id: string; counts: { total: number } }>(
        'POST',
        `/api/v1/bulk-changes?carrierAccountId=${fixture.accountId}&changeType=status_update`,
        { body: await xlsxFile({ Results: edited }), contentType: XLSX_CONTENT_TYPE },
      );
      assert.equal(again.status, 201, again.text);
      assert.equal(again.body.counts.total, 5);
      assert.equal((await waitForFinish(test, again.body.id)).status, 'completed');
      assert.ok(
        (await simAdmin(fixture.simulatorUrl).devices()).every((line) => line.state === 'DEACTIVATED'),
      );
    });

    it('is 404 for a bulk change the tenant does not have, and needs a key', async () => {
      assert.equal((await test.api('GET', '/api/v1/bulk-changes/no-such-change/results.xlsx')).status, 404);
      const other = await test.keyFor('other-tenant', 'viewer');
      const fixture = await jasperFixture(test, { count: 1, prefix: '8901603' });
      const id = await submitChange(
        test,
        fixture.accountId,
        [{ iccid: fixture.iccids[0] }],
        'status_update',
        {
          targetStatus: 'active',
        },
      );
      const foreign = await test.api('GET', `/api/v1/bulk-changes/${id}/results.xlsx`, { key: other });
      assert.equal(foreign.status, 404);
      assert.equal(
        (await test.api('GET', `/api/v1/bulk-changes/${id}/results.xlsx`, { key: null })).status,
        401,
      );
    });
  });
}
