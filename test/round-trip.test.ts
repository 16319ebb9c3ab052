import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { XLSX_CONTENT_TYPE } from '../src/bulk-changes/upload-input.ts';
import { changesOf, postChange, byIccid as rowsFor } from './support/bulk-changes.ts';
import { testDialects } from './support/databases.ts';
import { type SimLine, simAdmin } from './support/processes.ts';
import { jasperFixture, serviceForSuite, type TestService, waitForFinish } from './support/service.ts';
import { xlsxFile, xlsxRows } from './support/xlsx.ts';

type Answer = {
  id: string;
  counts: { total: number };
  skippedRows?: number;
  error?: { code: string; message: string; details?: Array<{ field?: string; code: string }> };
};

/** GET /devices/export as its bytes. */
async function exported(test: TestService, query: Record<string, string>, key = test.adminKey) {
  const response = await fetch(`${test.url}/api/v1/devices/export?${new URLSearchParams(query)}`, {
    headers: { authorization: `Bearer ${key}` },
  });
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    disposition: response.headers.get('content-disposition') ?? '',
    bytes: Buffer.from(await response.arrayBuffer()),
  };
}

const upload = (
  test: TestService,
  accountId: string,
  changeType: string,
  file: Buffer,
  contentType: string,
) =>
  test.api<Answer>('POST', `/api/v1/bulk-changes?carrierAccountId=${accountId}&changeType=${changeType}`, {
    body: new Uint8Array(file),
    contentType,
  });

type DryRun = {
  summary: { total: number; wouldSucceed: number; wouldFail: number; wouldSkip: number };
  rows: Array<{
    row: number;
    iccid: string | null;
    outcome: string;
    code?: string;
    message?: string;
    note?: string;
  }>;
};

const byIccid = (a: string[], b: string[]) => a[0].localeCompare(b[0]);

for (const dialect of testDialects) {
  describe(`A selection exported for editing and imported back, on ${dialect}`, () => {
    const test = serviceForSuite(dialect);

    it('CSV: 3 edited cells make a bulk change of 3 rows, 7 left out; a row is edited only against its own current_ cell; nothing edited is a 422', async () => {
      const fixture = await jasperFixture(test, { count: 10, state: 'ACTIVATED', prefix: '8901701' });
      const file = await exported(test, {
        carrierAccountId: fixture.accountId,
        changeType: 'status_update',
        format: 'csv',
      });
      assert.equal(file.status, 200, file.bytes.toString());
      assert.match(file.contentType, /^text\/csv/);
      assert.match(file.disposition, /attachment; filename="status_update-lines\.csv"/);
      const [header, ...lines] = parse(file.bytes) as string[][];
      assert.deepEqual(header, ['iccid', 'current_status', 'target_status']);
      // In the inventory's order (line ids), every line once.
      assert.deepEqual(
        [...lines].sort(byIccid),
        fixture.iccids.map((iccid) => [iccid, 'active', 'active']).sort(byIccid),
      );

      // Three desired cells edited. Row 2 asks for what its own current cell says: not edited, so left
      // out though its line is active. Rows 4 and 5 differ from their current cells (edited), but their
      // lines already are what they ask: left out too. A row is edited against the file, sent against
      // the inventory.
      const edited = lines.map((line) => [...line]);
      for (const index of [0, 2, 6]) edited[index][2] = 'deactivated';
      edited[1][1] = 'deactivated';
      edited[1][2] = 'deactivated';
      edited[3][1] = 'suspended';
      edited[4][1] = 'inventory';
      const preview = await test.api<DryRun>(
        'POST',
        `/api/v1/bulk-changes?carrierAccountId=${fixture.accountId}&changeType=status_update&dryRun=true`,
        { body: stringify([header, ...edited]), contentType: 'text/csv' },
      );
      assert.equal(preview.status, 200, preview.text);
      assert.deepEqual(
        preview.body.rows.map((row) => [row.row, row.outcome, row.code ?? null]),
        [
          [1, 'would_succeed', null],
          [2, 'would_skip', 'NOT_EDITED'],
          [3, 'would_succeed', null],
          [4, 'would_skip', 'ALREADY_IN_TARGET'],
          [5, 'would_skip', 'ALREADY_IN_TARGET'],
          [6, 'would_skip', 'NOT_EDITED'],
          [7, 'would_succeed', null],
          [8, 'would_skip', 'NOT_EDITED'],
          [9, 'would_skip', 'NOT_EDITED'],
          [10, 'would_skip', 'NOT_EDITED'],
        ],
      );
      const created = await upload(
        test,
        fixture.accountId,
        'status_update',
        Buffer.from(stringify([header, ...edited])),
        'text/csv',
      );
      assert.equal(created.status, 201, created.text);
      assert.equal(created.body.counts.total, 3);
      assert.equal(created.body.skippedRows, 7);
      assert.equal((await waitForFinish(test, created.body.id)).status, 'completed');
      const rows = await changesOf<{ row: number; iccid: string }>(test, created.body.id);
      assert.deepEqual(
        rows.map((row) => [row.row, row.iccid]),
        [1, 3, 7].map((row) => [row, lines[row - 1][0]]),
      );
      const calls = await simAdmin(fixture.simulatorUrl).calls();
      const changed = new Set(calls.filter((call) => call.method === 'PUT').flatMap((call) => call.iccids));
      assert.deepEqual([...changed].sort(), [0, 2, 6].map((index) => lines[index][0]).sort());

      // Exported again, and sent back untouched: nothing differs from the inventory.
      const again = await exported(test, {
        carrierAccountId: fixture.accountId,
        changeType: 'status_update',
      });
      const [, ...now] = parse(again.bytes) as string[][];
      assert.deepEqual(
        now.filter((line) => line[1] === 'deactivated').map((line) => line[0]),
        [0, 2, 6].map((index) => lines[index][0]),
      );
      const nothing = await upload(test, fixture.accountId, 'status_update', again.bytes, 'text/csv');
      assert.equal(nothing.status, 422, nothing.text);
      assert.equal(nothing.body.error?.code, 'NOTHING_TO_CHANGE');

      // The same file without its current_ columns is an ordinary upload: every row would be sent.
      const plain = stringify(now.map((line) => [line[0], line[2]]));
      const sent = await test.api<Answer>(
        'POST',
        `/api/v1/bulk-changes?carrierAccountId=${fixture.accountId}&changeType=status_update&dryRun=true`,
        { body: `iccid,target_status\n${plain}`, contentType: 'text/csv' },
      );
      assert.equal(sent.status, 200, sent.text);
      assert.deepEqual((sent.body as unknown as { summary: unknown }).summary, {
        total: 10,
        wouldSucceed: 10,
        wouldFail: 0,
        wouldSkip: 0,
      });
    });

    it('XLSX: the rate plan columns as text cells, 3 edited rows created, 7 left out; nothing edited is a 422', async () => {
      const fixture = await jasperFixture(test, { count: 10, state: 'ACTIVATED', prefix: '8901702' });
      const file = await exported(test, {
        carrierAccountId: fixture.accountId,
        changeType: 'carrier_rate_plan_change',
        format: 'xlsx',
      });
      assert.equal(file.status, 200, file.bytes.toString());
      assert.equal(file.contentType, XLSX_CONTENT_TYPE);
      const { rows } = await xlsxRows(file.bytes);
      const [header, ...lines] = rows;
      assert.deepEqual(header, [
        'iccid',
        'current_carrier_rate_plan',
        'carrier_rate_plan',
        'current_communication_plan',
        'communication_plan',
      ]);
      assert.deepEqual(
        [...(lines as string[][])].sort(byIccid),
        fixture.iccids
          .map((iccid) => [iccid, 'IoT Basic 1MB', 'IoT Basic 1MB', 'CP_Basic_ON', 'CP_Basic_ON'])
          .sort(byIccid),
      );

      const untouched = await upload(
        test,
        fixture.accountId,
        'carrier_rate_plan_change',
        file.bytes,
        XLSX_CONTENT_TYPE,
      );
      assert.equal(untouched.status, 422, untouched.text);
      assert.equal(untouched.body.error?.code, 'NOTHING_TO_CHANGE');

      const edited = lines.map((line) => [...(line as string[])]);
      // The new plan takes another communication plan: both cells of those rows are edited.
      for (const index of [1, 5, 9]) {
        edited[index][2] = 'IoT 100MB';
        edited[index][4] = 'CP_Data_Only';
      }
      // A current cell unlike its row's plan makes the row edited, but its line already has the plan: left out.
      edited[0][1] = 'IoT 100MB';
      const created = await upload(
        test,
        fixture.accountId,
        'carrier_rate_plan_change',
        await xlsxFile({ Lines: [header as string[], ...edited] }),
        XLSX_CONTENT_TYPE,
      );
      assert.equal(created.status, 201, created.text);
      assert.equal(created.body.counts.total, 3);
      assert.equal(created.body.skippedRows, 7);
      const finished = await waitForFinish(test, created.body.id);
      assert.equal(finished.status, 'completed', JSON.stringify(await changesOf(test, created.body.id)));
      const planned = (await simAdmin(fixture.simulatorUrl).devices()).filter(
        (line) => line.ratePlan === 'IoT 100MB',
      );
      assert.deepEqual(
        planned.map((line) => line.iccid).sort(),
        [1, 5, 9].map((index) => edited[index][0]).sort(),
      );
    });

    it('a line deactivated since the export: its unedited row never reverts it (CSV and XLSX); an edited row of it is sent, with a note', async () => {
      const fixture = await jasperFixture(test, { count: 3, state: 'ACTIVATED', prefix: '8901705' });
      const query = { carrierAccountId: fixture.accountId, changeType: 'status_update' };
      const csv = await exported(test, { ...query, format: 'csv' });
      const xlsx = await exported(test, { ...query, format: 'xlsx' });
      const [header, ...lines] = parse(csv.bytes) as string[][];
      // Someone deactivates the first line after the export, before the import.
      const moved = lines[0][0];
      const meanwhile = await postChange(test, fixture.accountId, rowsFor([moved]), 'status_update', {
        targetStatus: 'deactivated',
      });
      assert.equal(meanwhile.status, 201, meanwhile.text);
      assert.equal((await waitForFinish(test, meanwhile.body.id)).status, 'completed');

      // Its row still says active beside current_status active: not edited, so it asks for nothing.
      for (const [file, contentType] of [
        [csv.bytes, 'text/csv'],
        [xlsx.bytes, XLSX_CONTENT_TYPE],
      ] as const) {
        const untouched = await upload(test, fixture.accountId, 'status_update', file, contentType);
        assert.equal(untouched.status, 422, `${contentType}: ${untouched.text}`);
        assert.equal(untouched.body.error?.code, 'NOTHING_TO_CHANGE');
      }
      const dry = await test.api<DryRun>(
        'POST',
        `/api/v1/bulk-changes?carrierAccountId=${fixture.accountId}&changeType=status_update&dryRun=true`,
        { body: new Uint8Array(xlsx.bytes), contentType: XLSX_CONTENT_TYPE },
      );
      assert.equal(dry.status, 200, dry.text);
      const first = dry.body.rows.find((row) => row.iccid === moved);
      assert.equal(first?.code, 'NOT_EDITED');
      assert.match(first?.message ?? '', /not edited.*the line is deactivated/i);

      // Edited, the row is sent as asked, and the dry run says the line moved under the file.
      const edited = lines.map((line, index) => (index === 0 ? [line[0], line[1], 'retired'] : line));
      const file = await xlsxFile({ Lines: [header, ...edited] });
      const noted = await test.api<DryRun>(
        'POST',
        `/api/v1/bulk-changes?carrierAccountId=${fixture.accountId}&changeType=status_update&dryRun=true`,
        { body: new Uint8Array(file), contentType: XLSX_CONTENT_TYPE },
      );
      assert.equal(noted.status, 200, noted.text);
      assert.deepEqual(noted.body.summary, { total: 3, wouldSucceed: 1, wouldFail: 0, wouldSkip: 2 });
      assert.equal(
        noted.body.rows.find((row) => row.iccid === moved)?.note,
        'The line changed since the export: was active, now deactivated',
      );
      const created = await upload(test, fixture.accountId, 'status_update', file, XLSX_CONTENT_TYPE);
      assert.equal(created.status, 201, created.text);
      assert.equal(created.body.counts.total, 1);
      assert.equal(created.body.skippedRows, 2);
      assert.equal((await waitForFinish(test, created.body.id)).status, 'completed');
      const retired = (await simAdmin(fixture.simulatorUrl).devices()).find((line) => line.iccid === moved);
      assert.equal(retired?.state, 'RETIRED');
    });

    it('an edited rate plan sends the rate plan alone: a communication plan changed since the export is not put back', async () => {
      const fixture = await jasperFixture(test, { count: 2, state: 'ACTIVATED', prefix: '8901706' });
      const csv = await exported(test, {
        carrierAccountId: fixture.accountId,
        changeType: 'carrier_rate_plan_change',
        format: 'csv',
      });
      const [header, ...lines] = parse(csv.bytes) as string[][];
      assert.deepEqual(header.slice(3), ['current_communication_plan', 'communication_plan']);
      // After the export, someone moves the first line to IoT 10MB on CP_Data_Only.
      const [moved, other] = lines.map((line) => line[0]);
      const meanwhile = await postChange(
        test,
        fixture.accountId,
        [{ iccid: moved, carrierRatePlan: 'IoT 10MB', communicationPlan: 'CP_Data_Only' }],
        'carrier_rate_plan_change',
      );
      assert.equal(meanwhile.status, 201, meanwhile.text);
      assert.equal((await waitForFinish(test, meanwhile.body.id)).status, 'completed');

      // The operator moves both lines to IoT 10MB, touching only the rate plan cells: the communication
      // plan cells still say CP_Basic_ON, as exported.
      const edited = lines.map(([iccid, currentPlan, , currentCp, cp]) => [
        iccid,
        currentPlan,
        'IoT 10MB',
        currentCp,
        cp,
      ]);
      const file = Buffer.from(stringify([header, ...edited]));
      const dry = await test.api<DryRun>(
        'POST',
        `/api/v1/bulk-changes?carrierAccountId=${fixture.accountId}&changeType=carrier_rate_plan_change&dryRun=true`,
        { body: new Uint8Array(file), contentType: 'text/csv' },
      );
      assert.equal(dry.status, 200, dry.text);
      // The moved line already has the rate plan asked for; its communication plan was not asked for.
      assert.equal(dry.body.rows.find((row) => row.iccid === moved)?.code, 'ALREADY_IN_TARGET');
      const created = await upload(test, fixture.accountId, 'carrier_rate_plan_change', file, 'text/csv');
      assert.equal(created.status, 201, created.text);
      assert.equal(created.body.counts.total, 1);
      assert.equal(created.body.skippedRows, 1);
      assert.equal((await waitForFinish(test, created.body.id)).status, 'completed');
      const simLines = await simAdmin(fixture.simulatorUrl).devices<
        SimLine & { communicationPlan: string | null }
      >();
      const lineOf = new Map(simLines.map((line) => [line.iccid, line]));
      assert.deepEqual(
        [moved, other].map((iccid) => [lineOf.get(iccid)?.ratePlan, lineOf.get(iccid)?.communicationPlan]),
        [
          ['IoT 10MB', 'CP_Data_Only'],
          ['IoT 10MB', 'CP_Basic_ON'],
        ],
      );
    });

    it('an unedited row of a line busy in another change is left out, an edited one is refused', async () => {
      const fixture = await jasperFixture(test, { count: 3, state: 'ACTIVATED', prefix: '8901704' });
      const file = await exported(test, { carrierAccountId: fixture.accountId, changeType: 'status_update' });
      const [header, ...lines] = parse(file.bytes) as string[][];
      // The first two lines wait in a change scheduled for tomorrow: they are busy until it runs.
      const busy = lines.slice(0, 2).map((line) => line[0]);
      const scheduled = await postChange(
        test,
        fixture.accountId,
        rowsFor(busy),
        'status_update',
        { targetStatus: 'deactivated' },
        { scheduledFor: new Date(Date.now() + 86_400_000).toISOString() },
      );
      assert.equal(scheduled.status, 201, scheduled.text);

      // Only the third line is edited: the busy lines' unedited rows send nothing, so they pass.
      const edited = lines.map((line, index) => (index === 2 ? [line[0], line[1], 'deactivated'] : line));
      const created = await upload(
        test,
        fixture.accountId,
        'status_update',
        Buffer.from(stringify([header, ...edited])),
        'text/csv',
      );
      assert.equal(created.status, 201, created.text);
      assert.equal(created.body.counts.total, 1);
      assert.equal(created.body.skippedRows, 2);

      // Editing a busy line's row is still refused: that row would send something.
      const again = lines.map((line, index) => (index === 0 ? [line[0], line[1], 'deactivated'] : line));
      const refused = await upload(
        test,
        fixture.accountId,
        'status_update',
        Buffer.from(stringify([header, ...again])),
        'text/csv',
      );
      assert.equal(refused.status, 422, refused.text);
      assert.equal(refused.body.error?.details?.[0]?.code, 'LINE_IN_RUNNING_CHANGE');
    });

    it('blank cells keep a line as it is (lines without a customer plan); only types the inventory holds are exported', async () => {
      const fixture = await jasperFixture(test, { count: 4, state: 'ACTIVATED', prefix: '8901703' });
      const file = await exported(test, {
        carrierAccountId: fixture.accountId,
        changeType: 'customer_rate_plan_change',
      });
      assert.equal(file.status, 200, file.bytes.toString());
      const [header, ...lines] = parse(file.bytes) as string[][];
      assert.deepEqual(header, [
        'iccid',
        'current_customer_rate_plan_id',
        'customer_rate_plan_id',
        'current_customer_pool_id',
        'customer_pool_id',
      ]);
      assert.deepEqual(
        [...lines].sort(byIccid),
        fixture.iccids.map((iccid) => [iccid, '', '', '', '']).sort(byIccid),
      );
      const nothing = await upload(
        test,
        fixture.accountId,
        'customer_rate_plan_change',
        file.bytes,
        'text/csv',
      );
      assert.equal(nothing.status, 422, nothing.text);
      assert.equal(nothing.body.error?.code, 'NOTHING_TO_CHANGE');

      const identifiers = await exported(test, {
        carrierAccountId: fixture.accountId,
        changeType: 'identifier_change',
      });
      assert.equal(identifiers.status, 422);
      // A viewer may export; another tenant's key does not see the account.
      const query = { carrierAccountId: fixture.accountId, changeType: 'status_update' };
      assert.equal((await exported(test, query, await test.keyFor('acme', 'viewer'))).status, 200);
      assert.equal((await exported(test, query, await test.keyFor('other', 'admin'))).status, 404);
      const noAccount = await exported(test, { changeType: 'status_update' });
      assert.equal(noAccount.status, 422);
      assert.equal(
        (JSON.parse(noAccount.bytes.toString()) as Answer).error?.details?.[0]?.field,
        'carrierAccountId',
      );
    });
  });
}
