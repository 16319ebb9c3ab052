import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { jasperFixture, startTestService, type TestService, waitForFinish } from './support/service.ts';

type ErrorBody = {
  error: { code: string; message: string; details: Array<{ row?: number; field?: string; code: string }> };
};

describe('intake of bad input', () => {
  let test: TestService;
  let accountId: string;
  let iccids: string[];
  before(async () => {
    test = await startTestService('sqlite', { MAX_UPLOAD_BYTES: '4096' });
    ({ accountId, iccids } = await jasperFixture(test, { count: 6, prefix: '8901301' }));
  });
  after(() => test.stop());

  const postCsv = (csv: string, query = '') =>
    test.api<ErrorBody>(
      'POST',
      `/api/v1/bulk-changes?carrierAccountId=${accountId}&changeType=status_update${query}`,
      { body: csv, contentType: 'text/csv' },
    );
  const nothingCreated = async () => {
    const list = await test.api<{ items: unknown[] }>(
      'GET',
      `/api/v1/bulk-changes?carrierAccountId=${accountId}`,
    );
    assert.deepEqual(list.body.items, []);
  };

  it('reports every bad row of a CSV with its row, field and code, and creates nothing', async () => {
    const csv = [
      'ICCID,Target Status',
      `${iccids[0]},active`,
      '8.90130100000000E+18,active',
      `${iccids[1].slice(0, -1)}0,active`,
      `${iccids[0]},active`,
      ',active',
      `${iccids[2]},suspended`,
      '8901301999999999999999,active',
    ].join('\n');
    const response = await postCsv(csv);
    assert.equal(response.status, 422, response.text);
    assert.equal(response.body.error.code, 'VALIDATION_FAILED');
    const codes = response.body.error.details.map((d) => `${d.row}:${d.field}:${d.code}`);
    assert.deepEqual(codes, [
      '2:iccid:SCIENTIFIC_NOTATION',
      '3:iccid:INVALID_LUHN',
      '4:iccid:DUPLICATE_ROW',
      '5:iccid:REQUIRED',
      '6:targetStatus:INVALID_FIELD',
      '7:iccid:INVALID_ICCID',
    ]);
    await nothingCreated();
  });

  it('reports file-level problems once: unknown columns, an empty file', async () => {
    const unknown = await postCsv(`iccid,target_status,colour\n${iccids[0]},active,blue\n`);
    assert.equal(unknown.status, 422);
    assert.deepEqual(
      unknown.body.error.details.map((d) => [d.field, d.code]),
      [['colour', 'UNKNOWN_COLUMN']],
    );
    const empty = await postCsv('');
    assert.equal(empty.status, 422);
    await nothingCreated();
  });

  it('refuses fields that belong to another change type instead of ignoring them', async () => {
    const csv = await postCsv(`iccid,target_status,carrier_rate_plan\n${iccids[0]},active,IoT 1GB\n`);
    assert.equal(csv.status, 422);
    assert.deepEqual(
      csv.body.error.details.map((d) => [d.row, d.field, d.code]),
      [[undefined, 'carrierRatePlan', 'UNKNOWN_COLUMN']],
    );
    const json = await test.api<ErrorBody>('POST', '/api/v1/bulk-changes', {
      body: {
        carrierAccountId: accountId,
        changeType: 'status_update',
        options: { targetStatus: 'active' },
        changes: [{ iccid: iccids[0] }, { iccid: iccids[1], effectiveDate: '2030-01-01' }],
      },
    });
    assert.equal(json.status, 422);
    assert.deepEqual(
      json.body.error.details.map((d) => [d.row, d.field, d.code]),
      [[2, 'effectiveDate', 'UNKNOWN_FIELD']],
    );
    const option = await postCsv(
      `iccid,target_status\n${iccids[0]},active\n`,
      '&communicationPlan=CP_Basic_ON',
    );
    assert.equal(option.status, 422);
    assert.equal(option.body.error.details[0].code, 'UNKNOWN_FIELD');
    await nothingCreated();
  });

  it('rejects bad JSON with a 4xx and details, never a 500', async () => {
    const malformed = await test.api<ErrorBody>('POST', '/api/v1/bulk-changes', {
      body: '{"carrierAccountId":',
      contentType: 'application/json',
    });
    assert.equal(malformed.status, 400);
    const missing = await test.api<ErrorBody>('POST', '/api/v1/bulk-changes', {
      body: { carrierAccountId: accountId, changes: [] },
    });
    assert.equal(missing.status, 422);
    assert.ok(missing.body.error.details.some((d) => d.field === 'changeType'));
    const unknownField = await test.api<ErrorBody>('POST', '/api/v1/bulk-changes', {
      body: {
        carrierAccountId: accountId,
        changeType: 'status_update',
        changes: [{ iccid: iccids[0], targetStatus: 'active', colour: 'red' }],
      },
    });
    assert.equal(unknownField.status, 422);
    assert.deepEqual(
      unknownField.body.error.details.map((d) => [d.row, d.field, d.code]),
      [[1, 'colour', 'UNKNOWN_FIELD']],
    );
    const unknownOption = await test.api<ErrorBody>('POST', '/api/v1/bulk-changes', {
      body: {
        carrierAccountId: accountId,
        changeType: 'status_update',
        options: { targetStatus: 'active', priority: 'high' },
        changes: [{ iccid: iccids[0] }],
      },
    });
    assert.equal(unknownOption.status, 422);
    assert.deepEqual(
      unknownOption.body.error.details.map((d) => [d.field, d.code]),
      [['options.priority', 'UNKNOWN_FIELD']],
    );
    const unsupported = await test.api<ErrorBody>('POST', '/api/v1/bulk-changes', {
      body: { carrierAccountId: accountId, changeType: 'identifier_change', changes: [{ iccid: iccids[0] }] },
    });
    assert.equal(unsupported.status, 422);
    assert.equal(unsupported.body.error.details[0].code, 'UNSUPPORTED_CHANGE_TYPE');
    const wrongType = await test.api('POST', '/api/v1/bulk-changes', {
      body: 'x',
      contentType: 'application/xml',
    });
    assert.equal(wrongType.status, 415);
    await nothingCreated();
  });

  it('answers 413 for an upload over the size limit', async () => {
    const rows = Array.from({ length: 300 }, () => `${iccids[0]},active`);
    const response = await postCsv(['iccid,target_status', ...rows].join('\n'));
    assert.equal(response.status, 413);
    await nothingCreated();
  });

  it('dry-runs a file: the rows that would succeed and why the others would fail, creating nothing', async () => {
    const csv = `iccid,target_status\n${iccids[0]},active\n${iccids[1]},retired\n${iccids[1].slice(0, -1)}0,active\n`;
    const response = await test.api<{
      dryRun: boolean;
      summary: Record<string, number>;
      fileIssues: unknown[];
      rows: Array<{ outcome: string; code?: string }>;
    }>('POST', `/api/v1/bulk-changes?carrierAccountId=${accountId}&changeType=status_update&dryRun=true`, {
      body: csv,
      contentType: 'text/csv',
    });
    assert.equal(response.status, 200, response.text);
    assert.deepEqual(response.body.summary, { total: 3, wouldSucceed: 2, wouldFail: 1, wouldSkip: 0 });
    assert.deepEqual(response.body.fileIssues, []);
    assert.deepEqual(
      response.body.rows.map((r) => r.code ?? r.outcome),
      ['would_succeed', 'would_succeed', 'INVALID_LUHN'],
    );
    await nothingCreated();
    const withUnknownColumn = await test.api<{ fileIssues: Array<{ field: string; code: string }> }>(
      'POST',
      `/api/v1/bulk-changes?carrierAccountId=${accountId}&changeType=status_update&dryRun=true`,
      { body: `iccid,target_status,colour\n${iccids[0]},active,red\n`, contentType: 'text/csv' },
    );
    assert.equal(withUnknownColumn.status, 200);
    assert.deepEqual(
      withUnknownColumn.body.fileIssues.map((i) => [i.field, i.code]),
      [['colour', 'UNKNOWN_COLUMN']],
    );
  });

  it('creates a bulk change from the valid rows only when asked, listing the rejected ones', async () => {
    const csv = `iccid,target_status\n${iccids[3]},active\n${iccids[4].slice(0, -1)}0,active\n`;
    const response = await test.api<{
      id: string;
      counts: { total: number };
      rejectedRows: Array<{ row: number; code: string }>;
    }>(
      'POST',
      `/api/v1/bulk-changes?carrierAccountId=${accountId}&changeType=status_update&acceptValidRows=true`,
      { body: csv, contentType: 'text/csv' },
    );
    assert.equal(response.status, 201, response.text);
    assert.equal(response.body.counts.total, 1);
    assert.deepEqual(
      response.body.rejectedRows.map((r) => [r.row, r.code]),
      [[2, 'INVALID_LUHN']],
    );
    assert.equal((await waitForFinish(test, response.body.id)).status, 'completed');
  });

  it('reports a line that another running bulk change holds', async () => {
    const slow = await jasperFixture(test, {
      count: 10,
      prefix: '8901302',
      limits: { requestsPerSecond: 2, maxConcurrent: 1 },
    });
    const body = (targetStatus: string) => ({
      carrierAccountId: slow.accountId,
      changeType: 'status_update',
      options: { targetStatus },
      changes: slow.iccids.map((iccid) => ({ iccid })),
    });
    const first = await test.api<{ id: string }>('POST', '/api/v1/bulk-changes', { body: body('active') });
    assert.equal(first.status, 201);
    const second = await test.api<ErrorBody>('POST', '/api/v1/bulk-changes', { body: body('test_ready') });
    assert.equal(second.status, 422);
    assert.ok(second.body.error.details.some((d) => d.code === 'LINE_IN_RUNNING_CHANGE'));
    await test.api('POST', `/api/v1/bulk-changes/${first.body.id}/cancel`);
  });
});
