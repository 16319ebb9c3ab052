import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { Client, request } from 'undici';
import { z } from 'zod';
import { rowFields } from '../src/bulk-changes/row-fields.ts';
import { changeTypes } from '../src/core/change-types.ts';
import { jasperFixture, startTestService, type TestService } from './support/service.ts';

/**
 * Intake must answer anything a client can send with 200 (dry run), 201 or a 4xx in the API's error
 * shape (API §1), never a 5xx, and a refused request must leave nothing behind (DESIGN §2.2).
 */

const detailSchema = z
  .object({
    row: z.number().int().min(1).optional(),
    field: z.string().optional(),
    code: z.string().min(1),
    message: z.string().min(1),
  })
  .strict();
const errorSchema = z.object({
  error: z.object({ code: z.string().min(1), message: z.string().min(1), details: z.array(z.unknown()) }),
});
const dryRunSchema = z.object({
  dryRun: z.literal(true),
  summary: z.object({ total: z.number().int(), wouldSucceed: z.number().int(), wouldFail: z.number().int() }),
});
const createdSchema = z.object({
  id: z.string().min(1),
  counts: z.object({ total: z.number().int().min(1) }),
});

interface Sent {
  status: number;
  text: string;
  body: unknown;
}

/** Intake answers in milliseconds here; a request without an answer by then hangs. */
const ANSWER_TIMEOUT_MS = 10_000;

/** Bounded runs. A failure prints its shrunk counterexample with the seed and path that replay it. */
const runs = (numRuns: number) => ({ numRuns });

/** `"a""b"`: a cell in quotes, quotes doubled. */
const quoted = (cell: string) => `"${cell.replaceAll('"', '""')}"`;

describe('intake properties: any body → 200 / 201 / 4xx with the error shape, never a partial write', () => {
  let test: TestService;
  let accountId: string;
  let iccids: string[];
  before(async () => {
    // A small upload limit, so that generated huge fields also reach the 413 path.
    test = await startTestService('sqlite', { MAX_UPLOAD_BYTES: String(64 * 1024) });
    ({ accountId, iccids } = await jasperFixture(test, { count: 12, prefix: '8901501' }));
  });
  after(() => test.stop());

  /**
   * One request on a connection of its own (`reset`): a connection left unusable by an earlier
   * request (see the 413 test below) must not be blamed on the input that happens to follow it.
   */
  const send = async (contentType: string, body: Uint8Array | string, query = ''): Promise<Sent> => {
    const response = await request(`${test.url}/api/v1/bulk-changes${query}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${test.adminKey}`, 'content-type': contentType },
      body,
      reset: true,
      headersTimeout: ANSWER_TIMEOUT_MS,
      bodyTimeout: ANSWER_TIMEOUT_MS,
    });
    const text = await response.body.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {}
    return { status: response.statusCode, text, body: parsed };
  };

  /** The answer is one of the three the contract allows, each in its documented shape. */
  const assertContractAnswer = (sent: Sent, input: unknown) => {
    const context = `input ${JSON.stringify(input)?.slice(0, 2000)} → ${sent.status} ${sent.text.slice(0, 2000)}`;
    if (sent.status === 200) {
      assert.ok(dryRunSchema.safeParse(sent.body).success, `a 200 is a dry-run report: ${context}`);
      return;
    }
    if (sent.status === 201) {
      assert.ok(createdSchema.safeParse(sent.body).success, `a 201 is a bulk change: ${context}`);
      return;
    }
    assert.ok(sent.status >= 400 && sent.status < 500, `status is 200, 201 or 4xx: ${context}`);
    const error = errorSchema.safeParse(sent.body);
    assert.ok(error.success, `a 4xx carries {error: {code, message, details}}: ${context}`);
    if (sent.status === 422) {
      for (const detail of error.data.error.details) {
        const checked = detailSchema.safeParse(detail);
        assert.ok(
          checked.success,
          `detail ${JSON.stringify(detail)} has row?, field?, code, message: ${context}`,
        );
      }
    }
  };

  /** Bulk changes and change rows in the service's database. */
  const stored = async () => {
    const { db } = test.service.database;
    const count = async (table: 'bulk_changes' | 'device_changes') => {
      const row = await db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      return Number(row.n);
    };
    return { bulkChanges: await count('bulk_changes'), rows: await count('device_changes') };
  };

  // --- generators ---------------------------------------------------------------------------------
  // Most inputs are right where a client usually is right (the account, the change type), so that
  // they reach the row checks; the rest is anything.

  const iccidCell = () =>
    fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...iccids) },
      fc.constantFrom(...iccids).map((iccid) => `${iccid.slice(0, -1)}${(Number(iccid.at(-1)) + 3) % 10}`),
      fc.constantFrom('8.90150100000000E+18', '89015010000', ' 8901501000000000001F ', '８９０１', '-1'),
      fc.stringMatching(/^\d{15,23}$/),
    );
  const statusCell = () =>
    fc.constantFrom('active', 'deactivated', 'suspended', 'ACTIVATED', 'retired', 'test_ready', '');
  const cell = () =>
    fc.oneof(
      { weight: 4, arbitrary: iccidCell() },
      { weight: 3, arbitrary: statusCell() },
      { weight: 2, arbitrary: fc.string({ maxLength: 20 }) },
      fc.string({ maxLength: 20 }).map(quoted),
      fc.string({ maxLength: 10 }).map((text) => `"${text}`),
      fc.constantFrom('=cmd|"/c calc"!A1', '""', '"a""b"', 'a"b', '\u0000', '\uFFFD', '\uD800'),
      { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 100_000 }).map((size) => 'x'.repeat(size)) },
    );
  const realisticRow = () => fc.tuple(iccidCell(), statusCell());
  const headerCell = () =>
    fc.oneof(
      {
        weight: 6,
        arbitrary: fc.constantFrom(
          'iccid',
          'ICCID',
          'Sim Number',
          'target_status',
          'Target Status',
          'status',
          'carrier_rate_plan',
          'msisdn',
          'imei',
          'new_iccid',
          'effective_date',
          'colour',
          '',
        ),
      },
      fc.string({ maxLength: 12 }),
      fc.constantFrom(...rowFields),
      fc.constantFrom('iccid', 'target_status').map(quoted),
    );
  const csvText = () =>
    fc
      .record({
        bom: fc.boolean(),
        delimiter: fc.constantFrom(',', ';', ',', ';', '\t'),
        newline: fc.constantFrom('\n', '\r\n', '\r'),
        header: fc.oneof(
          { weight: 3, arbitrary: fc.constantFrom(['iccid', 'target_status'], ['ICCID', 'Status']) },
          fc.array(headerCell(), { minLength: 0, maxLength: 4 }),
        ),
        rows: fc.array(
          fc.oneof(
            { weight: 6, arbitrary: realisticRow() },
            { weight: 3, arbitrary: fc.array(cell(), { maxLength: 5 }) },
            fc.constant([]),
          ),
          { maxLength: 14 },
        ),
        trailingNewline: fc.boolean(),
      })
      .map(({ bom, delimiter, newline, header, rows, trailingNewline }) => {
        const lines = [header, ...rows].map((cells) => cells.join(delimiter));
        return `${bom ? '\uFEFF' : ''}${lines.join(newline)}${trailingNewline ? newline : ''}`;
      });
  const csvBody = () =>
    fc.oneof(
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 2048 }) },
      { weight: 5, arbitrary: csvText().map((text) => new TextEncoder().encode(text)) },
    );
  const anyQueryParameter = () =>
    fc.tuple(
      fc.oneof(
        fc.constantFrom('dryRun', 'acceptValidRows', 'targetStatus', 'scheduledFor', 'carrierAccountId'),
        fc.constantFrom(...rowFields),
        fc.string({ maxLength: 10 }),
      ),
      fc.oneof(
        fc.constantFrom('true', 'false', '1', 'yes', '', 'active', '2020-01-01T00:00:00Z'),
        fc.string({ maxLength: 12 }),
      ),
    );
  const rightQueryParameter = () =>
    fc.oneof(
      fc.tuple(fc.constantFrom('dryRun', 'acceptValidRows'), fc.constantFrom('true', 'false', '1', '0')),
      fc.tuple(fc.constant('targetStatus'), statusCell()),
      fc.tuple(fc.constant('scheduledFor'), fc.constantFrom('2020-01-01T00:00:00Z', 'soon')),
    );
  /** The CSV request's query: mostly right, sometimes missing, repeated or with unknown keys. */
  const csvQuery = () =>
    fc
      .record({
        account: fc.oneof({ weight: 9, arbitrary: fc.constant(accountId) }, fc.string({ maxLength: 30 })),
        changeType: fc.oneof(
          { weight: 9, arbitrary: fc.constant('status_update') },
          fc.constantFrom(...changeTypes),
          fc.string({ maxLength: 20 }),
        ),
        extra: fc.array(
          fc.oneof(
            { weight: 4, arbitrary: rightQueryParameter() },
            { weight: 1, arbitrary: anyQueryParameter() },
          ),
          { maxLength: 3 },
        ),
        omit: fc.constantFrom('none', 'none', 'none', 'none', 'none', 'none', 'account', 'changeType'),
      })
      .map(({ account, changeType, extra, omit }) => {
        const query = new URLSearchParams();
        if (omit !== 'account') query.append('carrierAccountId', account);
        if (omit !== 'changeType') query.append('changeType', changeType);
        for (const [key, value] of extra) query.append(key, value);
        return `?${query}`;
      });
  const csvRequest = () =>
    fc.record({ kind: fc.constant('csv' as const), query: csvQuery(), body: csvBody() });

  const fieldValue = () =>
    fc.oneof(
      { weight: 3, arbitrary: iccidCell() },
      { weight: 2, arbitrary: fc.constantFrom('active', 'deactivated', 'bogus', 'IoT 10MB', '') },
      fc.jsonValue({ maxDepth: 2 }),
    );
  const anyRowObject = () =>
    fc.dictionary(
      fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...rowFields) }, fc.string({ maxLength: 10 })),
      fieldValue(),
      { maxKeys: 4 },
    );
  const rowObject = () =>
    fc.oneof(
      {
        weight: 3,
        arbitrary: fc.record({ iccid: iccidCell(), targetStatus: statusCell() }, { requiredKeys: [] }),
      },
      { weight: 1, arbitrary: anyRowObject() },
    );
  /** The create body with the request's own fields right and the rows anything. */
  const rightEnvelope = () =>
    fc.record(
      {
        carrierAccountId: fc.constant(accountId),
        changeType: fc.constant('status_update'),
        changes: fc.array(rowObject(), { maxLength: 10 }),
        options: fc.oneof(fc.constant({}), fc.record({ targetStatus: statusCell() }), anyRowObject()),
        dryRun: fc.boolean(),
        acceptValidRows: fc.boolean(),
      },
      { requiredKeys: ['carrierAccountId', 'changeType', 'changes'] },
    );
  /** Shaped like the create body, with every field sometimes anything. */
  const anyEnvelope = () =>
    fc.record(
      {
        carrierAccountId: fc.oneof(
          { weight: 5, arbitrary: fc.constant(accountId) },
          fc.jsonValue({ maxDepth: 1 }),
        ),
        changeType: fc.oneof(
          { weight: 3, arbitrary: fc.constant('status_update') },
          fc.constantFrom(...changeTypes),
          fc.jsonValue({ maxDepth: 1 }),
        ),
        changes: fc.oneof(
          { weight: 5, arbitrary: fc.array(rowObject(), { maxLength: 8 }) },
          fc.jsonValue({ maxDepth: 2 }),
        ),
        options: fc.oneof(anyRowObject(), fc.jsonValue({ maxDepth: 2 })),
        scheduledFor: fc.oneof(
          fc.constantFrom('2020-01-01T00:00:00Z', 'tomorrow', ''),
          fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
          fc.jsonValue({ maxDepth: 1 }),
        ),
        dryRun: fc.oneof({ weight: 3, arbitrary: fc.boolean() }, fc.jsonValue({ maxDepth: 1 })),
        acceptValidRows: fc.oneof({ weight: 3, arbitrary: fc.boolean() }, fc.jsonValue({ maxDepth: 1 })),
      },
      { requiredKeys: [] },
    );
  const jsonText = () =>
    fc.oneof(
      { weight: 5, arbitrary: rightEnvelope().map((body) => JSON.stringify(body)) },
      { weight: 3, arbitrary: anyEnvelope().map((body) => JSON.stringify(body)) },
      { weight: 1, arbitrary: fc.jsonValue().map((body) => JSON.stringify(body)) },
      { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
    );
  const jsonRequest = () => fc.record({ kind: fc.constant('json' as const), body: jsonText() });

  type Request = { kind: 'csv'; query: string; body: Uint8Array } | { kind: 'json'; body: string };
  const sendRequest = (request: Request) =>
    request.kind === 'csv'
      ? send('text/csv', request.body, request.query)
      : send('application/json', request.body);
  /** What a failing assertion shows (fast-check also prints the exact counterexample and its seed). */
  const describeRequest = (request: Request) =>
    request.kind === 'json'
      ? request
      : { ...request, body: new TextDecoder('utf-8', { fatal: false }).decode(request.body) };

  // --- properties ---------------------------------------------------------------------------------

  it('(1) any CSV body (bytes, or CSV-ish text) gets 200, 201 or a 4xx with code and details, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(csvRequest(), async (request) => {
        assertContractAnswer(await sendRequest(request), describeRequest(request));
      }),
      runs(100),
    );
  });

  it('(2) any JSON body (any value, or shaped like the create body) gets 200, 201 or a 4xx, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(jsonRequest(), async (request) => {
        assertContractAnswer(await sendRequest(request), request);
      }),
      runs(100),
    );
  });

  it('(3) a refused request leaves no bulk change and no change row behind; a 201 stores exactly its rows', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(csvRequest(), jsonRequest()), async (request) => {
        const before = await stored();
        const sent = await sendRequest(request);
        const now = await stored();
        const context = `${JSON.stringify(describeRequest(request)).slice(0, 2000)} → ${sent.status} ${sent.text.slice(0, 500)}`;
        if (sent.status === 201) {
          const created = createdSchema.parse(sent.body);
          assert.deepEqual(
            now,
            { bulkChanges: before.bulkChanges + 1, rows: before.rows + created.counts.total },
            `a 201 stores one bulk change with its rows: ${context}`,
          );
        } else {
          assert.deepEqual(now, before, `nothing is stored for a ${sent.status}: ${context}`);
        }
      }),
      runs(80),
    );
  });

  // Found by property (1) with keep-alive connections: the server answered the oversized upload, then
  // never read that connection again. It now closes it (Connection: close), so the client reconnects.
  it('(4) after a 413 for an oversized CSV upload, the next request is answered', async () => {
    // One connection at a time, so the second request goes where the first one went (or, if the server
    // closes after the 413, on a new one: either is fine).
    const client = new Client(test.url, { pipelining: 1, headersTimeout: 5_000, bodyTimeout: 5_000 });
    try {
      const post = async (body: string, query: string) => {
        const response = await client.request({
          method: 'POST',
          path: `/api/v1/bulk-changes?carrierAccountId=${accountId}&changeType=status_update${query}`,
          headers: { authorization: `Bearer ${test.adminKey}`, 'content-type': 'text/csv' },
          body,
        });
        await response.body.text();
        return response.statusCode;
      };
      // Several times the 64 KiB limit: more than the server has read when it gives up.
      assert.equal(await post('x'.repeat(300_000), ''), 413);
      assert.equal(await post(`iccid,target_status\n${iccids[0]},active\n`, '&dryRun=true'), 200);
    } finally {
      await client.destroy();
    }
  });
});
