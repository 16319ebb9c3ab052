import { pipeline, type Readable, Transform } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type KeyAuth, principalOf, requireRole } from '../accounts/auth.ts';
import { changeTypes } from '../core/change-types.ts';
import { AppError, type ErrorDetail, validationFailed } from '../core/errors.ts';
import { bulkStatuses, rowStatuses } from '../core/statuses.ts';
import { nulCharacterAt, nulDetail } from '../core/text.ts';
import { type WavePlan, wavePlanSchema } from '../core/waves.ts';
import { fileAnswer, pageOf } from '../shared/answers.ts';
import { EVENT_STREAM_CONTENT_TYPE } from '../shared/event-stream.ts';
import { NUMERIC_CURSOR } from '../shared/paging.ts';
import type { ActivationWorkbookTemplates } from './activation-workbook-template.ts';
import type { BulkChanges, CreateBulkChangeInput } from './bulk-changes-service.ts';
import { type InputRow, inBatches, type RowBatch } from './csv-input.ts';
import { multipartParts } from './multipart.ts';
import { streamProgress } from './progress-events.ts';
import { resultsCsv } from './results-csv.ts';
import { resultsXlsx } from './results-xlsx.ts';
import { isRowField } from './row-fields.ts';
import { type DeclaredFile, openUploadRows, XLSX_CONTENT_TYPE } from './upload-input.ts';
import {
  bulkChangeViewSchema,
  createdBulkChangeSchema,
  deviceChangeViewSchema,
  dryRunReportSchema,
  retryBulkChangeSchema,
  rowAuditEntryViewSchema,
  rowWithTimelineSchema,
  undoBulkChangeSchema,
  undoDryRunSchema,
} from './views.ts';

const idParams = z.object({ id: z.string().min(1) });
/** Bodies read as a file: CSV (browsers on Windows call it `application/vnd.ms-excel`) or XLSX. */
const fileContentTypes = ['text/csv', 'application/csv', 'application/vnd.ms-excel', XLSX_CONTENT_TYPE];
const limit = z.coerce.number().int().min(1).max(1000).default(100);
const flag = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0'])])
  .transform((value) => value === true || value === 'true' || value === '1')
  .default(false);

/** Addresses told by e-mail when the bulk change ends (besides the tenant's). */
const notifyEmails = z.array(z.email()).max(50);
/** The same in a query or form field: comma-separated. */
const notifyEmailsField = z
  .string()
  .transform((text) =>
    text
      .split(',')
      .map((address) => address.trim())
      .filter((address) => address !== ''),
  )
  .pipe(notifyEmails);

/** A yes/no option as JSON or a CSV cell gives it; the flow checks it. */
const optionFlag = (description: string) =>
  z.union([z.boolean(), z.string()]).optional().describe(description);

/**
 * Any row field given once for every row, and the flow options named here (documented; the flow of the
 * change type and carrier checks them, and refuses those it does not take).
 */
const createOptions = z
  .object({
    readMsisdn: optionFlag(
      'status_update on the Jasper family: after an activation, read the line’s new MSISDN back (inventory, result, billing service number)',
    ),
    cheapestPlanBeforeDeactivation: optionFlag(
      'status_update on the Jasper family: before a deactivation, move the line to the cheapest of the account’s settings.deactivationRatePlans that covers its cycle’s data usage',
    ),
    moveBillingCustomer: optionFlag(
      'status_update with billingCustomerId: after an activation and its billing service, move the line to that customer with the customer rate plan and pool the billing settings name for it (customerDefaults)',
    ),
  })
  .catchall(z.unknown());

/** A bulk change's name, when its creator gives one (else it is named from what it does). */
const nameField = z.string().trim().min(1).max(200);

const createJson = z
  .object({
    carrierAccountId: z.string().min(1),
    changeType: z.enum(changeTypes),
    name: nameField.optional(),
    changes: z.array(z.record(z.string(), z.unknown())),
    options: createOptions.default({}),
    scheduledFor: z.string().optional(),
    dryRun: z.boolean().default(false),
    acceptValidRows: z.boolean().default(false),
    skipAlreadyInTarget: z.boolean().default(false),
    notifyEmails: notifyEmails.optional(),
  })
  .meta({
    example: {
      carrierAccountId: '0193a1f0-7c2e-7d41-9a51-3c2f6b0e8d11',
      changeType: 'status_update',
      name: 'Deactivate the pilot fleet',
      changes: [{ iccid: '89014103211118510720' }, { iccid: '89014103211118510738' }],
      options: { targetStatus: 'deactivated' },
      skipAlreadyInTarget: true,
      dryRun: true,
    },
  });

const createFields = z
  .object({
    carrierAccountId: z.string().min(1),
    changeType: z.enum(changeTypes),
    name: nameField.optional(),
    scheduledFor: z.string().optional(),
    dryRun: flag,
    acceptValidRows: flag,
    skipAlreadyInTarget: flag,
    notifyEmails: notifyEmailsField.optional(),
  })
  .loose();

/** An undo's body is optional: defaults for every reverse row (a Telegence `reasonCode`, say). */
const undoBody = z
  .object({ options: z.record(z.string(), z.unknown()).default({}) })
  .default({ options: {} });

export interface BulkChangeRoutesOptions {
  auth: KeyAuth;
  bulkChanges: BulkChanges;
  activationTemplates: ActivationWorkbookTemplates;
  maxUploadBytes: number;
}

export const bulkChangeRoutes: FastifyPluginAsyncZod<BulkChangeRoutesOptions> = async (
  app,
  { auth, bulkChanges, activationTemplates, maxUploadBytes },
) => {
  const viewer = requireRole(auth, 'viewer');
  const operator = requireRole(auth, 'operator');
  const approver = requireRole(auth, 'approver');

  // A CSV or XLSX arrives as a stream; it is parsed row by row rather than buffered by Fastify.
  app.addContentTypeParser(fileContentTypes, (_request, payload, done) => done(null, payload));

  app.post(
    '/bulk-changes',
    {
      onRequest: operator,
      bodyLimit: maxUploadBytes,
      schema: {
        tags: ['bulk changes'],
        summary: 'Create a bulk change (JSON, text/csv, XLSX or multipart/form-data), or dry-run it',
        description:
          'JSON: {carrierAccountId, changeType, name?, changes: [row], options, scheduledFor?, dryRun?, acceptValidRows?, skipAlreadyInTarget?, notifyEmails?}; ' +
          'skipAlreadyInTarget leaves out rows whose line already is what they ask for (a dry run marks them would_skip, with current and target, and estimates the sending time); ' +
          "a dry-run row that waits (its effective date, or its line's carrier quota spent this period) has notBefore and waitsFor, and the estimate waitingRows and lastRowNotBefore; " +
          'options.waves ([{lines} | {percent}], cumulative) and options.haltOnFailureRate (0..1, default 0.2) send it in canary waves (docs/guardrails.md). ' +
          'CSV: the same fields as query parameters and one row per line. XLSX (`' +
          XLSX_CONTENT_TYPE +
          '`): like CSV, the first sheet, header row first. Multipart: a `file` part (CSV or XLSX) and the fields as parts. ' +
          "A file exported for editing (GET /devices/export: current_* columns) is a round trip, whatever skipAlreadyInTarget says: a row is sent only when edited (a field unlike its own current_* cell, trimmed, in the field's case rules; a blank current_* cell is no value) and its line in the inventory does not already have the value; " +
          'the others are left out (skippedRows; a dry run marks them would_skip with code NOT_EDITED or ALREADY_IN_TARGET), so an unedited row never reverts a line changed since the export; ' +
          'an edited row whose line changed since the export is sent, its dry-run row with a note (was, now); blank cells keep the line as it is (ADR 0059).',
        headers: z.object({ 'idempotency-key': z.string().max(200).optional() }).loose(),
        body: createJson,
        response: {
          200: dryRunReportSchema.describe('The dry run (dryRun: true): nothing was created'),
          201: createdBulkChangeSchema.describe(
            'Created (or, with the same Idempotency-Key, the one created before: `idempotent-replayed: true`)',
          ),
        },
      },
      // The body schema documents the JSON form; CSV and multipart bodies are streams checked as they are read.
      attachValidation: true,
    },
    async (request, reply) => {
      const input = await readCreateRequest(request, maxUploadBytes);
      const outcome = await bulkChanges.create(principalOf(request), {
        ...input,
        idempotencyKey: request.headers['idempotency-key'] as string | undefined,
        requestId: request.id,
      });
      if ('dryRun' in outcome) return reply.status(200).send(outcome);
      if (outcome.replayed) reply.header('idempotent-replayed', 'true');
      return reply.status(201).send({
        ...outcome.created,
        ...(outcome.rejected.length ? { rejectedRows: outcome.rejected } : {}),
        ...(outcome.skipped ? { skippedRows: outcome.skipped } : {}),
      });
    },
  );

  app.get(
    '/carrier-accounts/:id/activation-workbook.xlsx',
    {
      onRequest: viewer,
      schema: {
        tags: ['bulk changes'],
        summary:
          'The activation workbook template of a Telegence account: activations, customer assignment and instructions sheets (ADR 0052)',
        description:
          'Fill it in and POST it like any XLSX with changeType=activate_new_service: one bulk change, with the assignment sheet run as its linked customer_assignment.',
        params: idParams,
        response: { 200: fileAnswer('The workbook', [XLSX_CONTENT_TYPE]) },
      },
    },
    async (request, reply) => {
      const template = await activationTemplates.build(principalOf(request).tenantId, request.params.id);
      return reply
        .header('content-type', XLSX_CONTENT_TYPE)
        .header('content-disposition', `attachment; filename="activation-workbook-${request.params.id}.xlsx"`)
        .send(template);
    },
  );

  app.get(
    '/bulk-changes',
    {
      onRequest: viewer,
      schema: {
        tags: ['bulk changes'],
        querystring: z.object({
          status: z.enum(bulkStatuses).optional(),
          changeType: z.enum(changeTypes).optional(),
          carrierAccountId: z.string().optional(),
          cursor: z.string().optional(),
          limit,
        }),
        response: { 200: pageOf(bulkChangeViewSchema) },
      },
    },
    async (request) => bulkChanges.list(principalOf(request).tenantId, request.query),
  );

  app.get(
    '/bulk-changes/:id',
    {
      onRequest: viewer,
      schema: { tags: ['bulk changes'], params: idParams, response: { 200: bulkChangeViewSchema } },
    },
    async (request) => bulkChanges.get(principalOf(request).tenantId, request.params.id),
  );

  app.get(
    '/bulk-changes/:id/changes',
    {
      onRequest: viewer,
      schema: {
        tags: ['bulk changes'],
        params: idParams,
        querystring: z.object({
          status: z.enum(rowStatuses).optional(),
          cursor: z.string().regex(NUMERIC_CURSOR, 'a row number').optional(),
          limit,
        }),
        response: { 200: pageOf(deviceChangeViewSchema) },
      },
    },
    async (request) => bulkChanges.changes(principalOf(request).tenantId, request.params.id, request.query),
  );

  app.get(
    '/bulk-changes/:id/changes/:changeId',
    {
      onRequest: viewer,
      schema: {
        tags: ['bulk changes'],
        summary: 'One row with its timeline: every call that carried it, batch calls and callbacks included',
        params: z.object({ id: z.string().min(1), changeId: z.string().min(1) }),
        querystring: z.object({ limit }),
        response: { 200: rowWithTimelineSchema },
      },
    },
    async (request) =>
      bulkChanges.rowWithTimeline(
        principalOf(request).tenantId,
        request.params.id,
        request.params.changeId,
        request.query.limit,
      ),
  );

  app.get(
    '/bulk-changes/:id/log',
    {
      onRequest: viewer,
      schema: {
        tags: ['bulk changes'],
        params: idParams,
        querystring: z.object({
          changeId: z.string().optional(),
          cursor: z.string().regex(NUMERIC_CURSOR, 'a row number').optional(),
          limit,
        }),
        response: { 200: pageOf(rowAuditEntryViewSchema) },
      },
    },
    async (request) => bulkChanges.log(principalOf(request).tenantId, request.params.id, request.query),
  );

  app.get(
    '/bulk-changes/:id/results.csv',
    {
      onRequest: viewer,
      schema: {
        tags: ['bulk changes'],
        summary: 'The results as CSV: one line per row, with what each produced',
        params: idParams,
        response: { 200: fileAnswer('The results', ['text/csv']) },
      },
    },
    async (request, reply) => {
      const { tenantId } = principalOf(request);
      await bulkChanges.find(tenantId, request.params.id);
      const csv = resultsCsv(bulkChanges, tenantId, request.params.id);
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="bulk-change-${request.params.id}.csv"`)
        .send(csv);
    },
  );

  app.get(
    '/bulk-changes/:id/results.xlsx',
    {
      onRequest: viewer,
      schema: {
        tags: ['bulk changes'],
        summary:
          'The results as an XLSX workbook: the columns of results.csv, header frozen, identifiers as text',
        params: idParams,
        response: { 200: fileAnswer('The results', [XLSX_CONTENT_TYPE]) },
      },
    },
    async (request, reply) => {
      const { tenantId } = principalOf(request);
      await bulkChanges.find(tenantId, request.params.id);
      return reply
        .header('content-type', XLSX_CONTENT_TYPE)
        .header('content-disposition', `attachment; filename="bulk-change-${request.params.id}.xlsx"`)
        .send(resultsXlsx(bulkChanges, tenantId, request.params.id));
    },
  );

  app.get(
    '/bulk-changes/:id/events',
    {
      onRequest: viewer,
      schema: {
        tags: ['bulk changes'],
        summary: 'Its progress as Server-Sent Events, until it ends',
        params: idParams,
        response: {
          200: fileAnswer(
            'Server-Sent Events: the bulk change as GET /bulk-changes/{id} shows it, at each change',
            [EVENT_STREAM_CONTENT_TYPE],
          ),
        },
      },
    },
    async (request, reply) => {
      const { tenantId } = principalOf(request);
      await bulkChanges.find(tenantId, request.params.id);
      return streamProgress(reply, () => bulkChanges.get(tenantId, request.params.id));
    },
  );

  app.post(
    '/bulk-changes/:id/cancel',
    {
      onRequest: operator,
      schema: { tags: ['bulk changes'], params: idParams, response: { 200: bulkChangeViewSchema } },
    },
    async (request) => bulkChanges.cancel(principalOf(request), request.params.id, request.id),
  );

  app.post(
    '/bulk-changes/:id/pause',
    {
      onRequest: operator,
      schema: {
        tags: ['bulk changes'],
        summary:
          'Pause a running bulk change: nothing new is sent; rows already with the carrier are confirmed',
        params: idParams,
        response: { 200: bulkChangeViewSchema },
      },
    },
    async (request) => bulkChanges.pause(principalOf(request), request.params.id),
  );

  app.post(
    '/bulk-changes/:id/resume',
    {
      onRequest: operator,
      schema: {
        tags: ['bulk changes'],
        summary: 'Resume a paused bulk change where it stopped (no row is sent twice)',
        params: idParams,
        response: { 200: bulkChangeViewSchema },
      },
    },
    async (request) => bulkChanges.resume(principalOf(request), request.params.id),
  );

  for (const [control, outcome] of [
    ['approve', 'approved'],
    ['reject', 'rejected'],
  ] as const) {
    app.post(
      `/bulk-changes/:id/${control}`,
      {
        onRequest: approver,
        schema: {
          tags: ['bulk changes'],
          summary:
            control === 'approve'
              ? 'Approve a bulk change awaiting approval: it goes ahead (approver role; never its creator)'
              : 'Reject a bulk change awaiting approval: it is cancelled and its lines freed (approver role; never its creator)',
          params: idParams,
          body: decisionBody(control === 'reject').optional(),
          response: { 200: bulkChangeViewSchema },
        },
      },
      async (request) =>
        bulkChanges.decide(principalOf(request), request.params.id, {
          outcome,
          note: request.body?.note ?? null,
        }),
    );
  }

  app.post(
    '/bulk-changes/:id/retry',
    {
      onRequest: operator,
      schema: {
        tags: ['bulk changes'],
        summary: 'Retry the failed rows of a finished bulk change as a new one',
        params: idParams,
        response: { 201: retryBulkChangeSchema },
      },
    },
    async (request, reply) => {
      const { created, rejected } = await bulkChanges.retry(
        principalOf(request),
        request.params.id,
        request.id,
      );
      return reply.status(201).send({ ...created, ...(rejected.length ? { rejectedRows: rejected } : {}) });
    },
  );
  app.post(
    '/bulk-changes/:id/undo',
    {
      onRequest: operator,
      schema: {
        tags: ['bulk changes'],
        summary:
          'Undo a finished bulk change: create (or dry-run) its reverse, and list the rows it cannot reverse',
        description:
          'The reverse is an ordinary bulk change of the same type with `undoOf` this one, each row setting back what the ' +
          'row it reverses changed on its line. 201: the new bulk change with `irreversible: [{row, changeId, iccid, msisdn, eid, reason, message, code?}]`; ' +
          '200 with ?dryRun=true: the dry-run report with `undoOf` and `irreversible`. Optional JSON body `{options}`: defaults for every reverse row. ' +
          'Reasons and refusals: docs/guardrails.md#undo, docs/errors.md.',
        params: idParams,
        querystring: z.object({ dryRun: flag }),
        response: { 200: undoDryRunSchema, 201: undoBulkChangeSchema },
      },
    },
    async (request, reply) => {
      const { options } = parseOrFail(undoBody, request.body ?? undefined);
      const outcome = await bulkChanges.undo(principalOf(request), request.params.id, {
        dryRun: request.query.dryRun,
        options,
        requestId: request.id,
      });
      if ('dryRun' in outcome) return reply.status(200).send(outcome);
      return reply.status(201).send({ ...outcome.created, irreversible: outcome.irreversible });
    },
  );
};

/** The note of an approval (optional) or a rejection (required: it is the reason the change was cancelled). */
const decisionBody = (noteRequired: boolean) =>
  z.object({
    note: noteRequired ? z.string().trim().min(1).max(2000) : z.string().trim().max(2000).optional(),
  });

type CreateRequest = Omit<CreateBulkChangeInput, 'idempotencyKey'>;

async function readCreateRequest(request: FastifyRequest, maxUploadBytes: number): Promise<CreateRequest> {
  const type = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type === 'application/json') {
    if (request.validationError) throw request.validationError;
    return fromJson(request.body);
  }
  if (type === 'multipart/form-data') return fromMultipart(request, maxUploadBytes);
  if (fileContentTypes.includes(type)) {
    return fileRequest(request.query as Record<string, unknown>, request.body as Readable, maxUploadBytes, {
      contentType: type,
    });
  }
  throw new AppError(
    'UNSUPPORTED_MEDIA_TYPE',
    `Send application/json, text/csv, ${XLSX_CONTENT_TYPE} or multipart/form-data`,
  );
}

function parseOrFail<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw validationFailed(
    parsed.error.issues.map((issue) => ({
      field: issue.path.join('.'),
      code: 'INVALID_FIELD',
      message: issue.message,
    })),
  );
}

function fromJson(body: unknown): CreateRequest {
  const { changes, options: given, ...request } = body as z.infer<typeof createJson>;
  const { waves, options } = splitWaves(given);
  const fields = { ...request, options };
  const rows = inBatches(changes.map((change, index): InputRow => ({ row: index + 1, fields: change })));
  const inputIssues: ErrorDetail[] = Object.keys(fields.options)
    .filter((key) => !isRowField(key))
    .map((key) => ({
      field: `options.${key}`,
      code: 'UNKNOWN_FIELD',
      message: `${key} is not an option or row field`,
    }));
  return { ...fields, ...(waves ? { waves } : {}), rows, inputIssues };
}

/**
 * `options.waves` and `options.haltOnFailureRate` are the change's canary plan (docs/guardrails.md),
 * not fields set on every row: taken out of the options, checked, refused with a 422 when wrong.
 */
function splitWaves(given: Record<string, unknown>): { waves?: WavePlan; options: Record<string, unknown> } {
  const { waves, haltOnFailureRate, ...options } = given;
  if (waves === undefined && haltOnFailureRate === undefined) return { options };
  const parsed = wavePlanSchema.safeParse({ waves, haltOnFailureRate });
  if (parsed.success) return { waves: parsed.data, options };
  throw validationFailed(
    parsed.error.issues.map((issue) => ({
      field: ['options', ...issue.path].join('.'),
      code: 'INVALID_FIELD',
      message: issue.message,
    })),
    'options.waves is not a valid canary plan',
  );
}

/** Query or form fields besides the request's own are options (defaults for every row). */
function splitFields(raw: Record<string, unknown>) {
  const fields = parseOrFail(createFields, raw);
  const {
    carrierAccountId,
    changeType,
    name,
    scheduledFor,
    dryRun,
    acceptValidRows,
    skipAlreadyInTarget,
    notifyEmails,
    ...rest
  } = fields;
  const inputIssues: ErrorDetail[] = Object.keys(rest)
    .filter((key) => !isRowField(key))
    .map((key) => ({ field: key, code: 'UNKNOWN_FIELD', message: `${key} is not an option or row field` }));
  const options = Object.fromEntries(Object.entries(rest).filter(([key]) => isRowField(key)));
  return {
    carrierAccountId,
    changeType,
    name,
    scheduledFor,
    dryRun,
    acceptValidRows,
    skipAlreadyInTarget,
    notifyEmails,
    options,
    inputIssues,
  };
}

/**
 * The request's fields (query or form) and its file, CSV or XLSX, read as it arrives, within the size
 * limit: both are the same rows to intake.
 */
async function fileRequest(
  rawFields: Record<string, unknown>,
  file: Readable,
  maxUploadBytes: number,
  declared: DeclaredFile,
): Promise<CreateRequest> {
  const { inputIssues, ...fields } = splitFields(rawFields);
  const limited = byteLimit(maxUploadBytes);
  pipeline(file, limited, () => {});
  const table = await openUploadRows(limited, fields.changeType, declared);
  return {
    ...fields,
    rows: table.batches,
    csvColumns: table.columns,
    roundTrip: table.roundTrip,
    ...(table.sheet ? { rowsSheet: table.sheet } : {}),
    inputIssues: [...inputIssues, ...table.headerIssues],
  };
}

/**
 * Multipart: the fields come first, then the `file` part, streamed like a CSV body, and nothing after
 * it. The file is the last part: a field after it could not change rows already written, and a second
 * file would be ignored, so either is refused (422) before the intake's transaction commits.
 */
async function fromMultipart(request: FastifyRequest, maxUploadBytes: number): Promise<CreateRequest> {
  const formFields: Record<string, unknown> = {};
  // Two files at most: the second is refused by name rather than by the plugin's 413.
  const parts = multipartParts(request, { fileSize: maxUploadBytes, files: 2 });
  for (let next = await parts.next(); !next.done; next = await parts.next()) {
    const part = next.value;
    if (part.type !== 'file') {
      formFields[part.fieldname] = part.value;
      continue;
    }
    if (part.fieldname !== 'file')
      throw validationFailed([
        { field: part.fieldname, code: 'UNKNOWN_FIELD', message: 'The CSV or XLSX goes in the "file" part' },
      ]);
    const nulAt = nulCharacterAt(formFields);
    if (nulAt !== undefined) throw validationFailed([nulDetail(nulAt)], 'A field holds a NUL character');
    const file = await fileRequest(formFields, part.file, maxUploadBytes, {
      contentType: part.mimetype,
      fileName: part.filename,
    });
    return { ...file, rows: thenNothingMore(file.rows, parts) };
  }
  throw validationFailed([
    { field: 'file', code: 'REQUIRED', message: 'A "file" part (CSV or XLSX) is required' },
  ]);
}

/** The file's rows, then a check that the body ends with it (read inside the intake's transaction). */
async function* thenNothingMore(
  rows: CreateRequest['rows'],
  parts: ReturnType<typeof multipartParts>,
): AsyncGenerator<RowBatch> {
  yield* rows;
  const after = await parts.next();
  if (after.done) return;
  throw validationFailed([
    {
      field: after.value.fieldname,
      code: 'UNEXPECTED_PART',
      message: 'The "file" part must be the last part, and the only file',
    },
  ]);
}

/** Ends a streamed upload with a 413 once it passes the configured size. */
function byteLimit(maxBytes: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      if (seen > maxBytes)
        callback(new AppError('PAYLOAD_TOO_LARGE', `The upload is larger than ${maxBytes} bytes`));
      else callback(null, chunk);
    },
  });
}
