import { z } from 'zod';
import type { AuditEntry } from '../audit/audit-repository.ts';
import { sliceForLine } from '../audit/row-slice.ts';
import type { BulkChange, DeviceChange } from '../core/bulk-change.ts';
import { type CarrierName, carrierNames, changeTypes } from '../core/change-types.ts';
import { errorDetailSchema } from '../core/errors.ts';
import { bulkStatuses, rowStatuses } from '../core/statuses.ts';
import { wavePlanSchema } from '../core/waves.ts';
import { isoTime, jsonObject } from '../shared/answers.ts';
import { toIso } from '../shared/time.ts';
import { bulkChangeName } from './bulk-change-name.ts';
import { sendEstimateSchema } from './estimate.ts';
import { approvalView, approvalViewSchema, pauseView, pauseViewSchema } from './events.ts';
import { dryRunRowSchema } from './intake-run.ts';
import { type ResultColumnName, resultColumns, resultColumnValues } from './result-columns.ts';
import { irreversibleRowSchema } from './undo-plan.ts';

const count = z.number().int();

/** A bulk change as the API shows it (API §2). */
export const bulkChangeViewSchema = z
  .object({
    id: z.string(),
    name: z
      .string()
      .describe('Given at creation, or made from what it does ("Deactivate 500 lines on Jasper (demo)")'),
    nameGiven: z
      .boolean()
      .describe("Whether the name was given (false: generated; it follows the account's name)"),
    carrierAccountId: z.string(),
    carrier: z.enum(carrierNames),
    changeType: z.enum(changeTypes),
    status: z.enum(bulkStatuses),
    options: jsonObject.describe('The request’s options, defaults of every row'),
    createdAt: isoTime,
    createdBy: z.string(),
    scheduledFor: isoTime.nullable(),
    startedAt: isoTime.nullable(),
    completedAt: isoTime.nullable(),
    cancelRequestedAt: isoTime.nullable(),
    parentId: z.string().nullable().describe('The bulk change whose failed rows this one retries'),
    linkedId: z
      .string()
      .nullable()
      .describe("The other half of a pair: a follow-up's parent, or a parent's follow-up"),
    retriedAsId: z.string().nullable().describe("The bulk change that retried this one's failed rows"),
    undoOf: z.string().nullable().describe('The bulk change this one reverses (an undo)'),
    undoneAsId: z.string().nullable().describe('The bulk change that reverses this one'),
    failureReason: z.string().nullable().describe('Why the engine gave up on it (`failed`), when it did'),
    notifyEmails: z
      .array(z.string())
      .describe("Told by e-mail when it ends, besides the tenant's own addresses"),
    pause: pauseViewSchema
      .nullable()
      .describe('While `paused`: why, by whom, since when, and the figures behind it'),
    approval: approvalViewSchema
      .nullable()
      .describe(
        "Held by the tenant's approval policy: why, since when, and the decision once made; null when it never was",
      ),
    destructiveAction: z
      .string()
      .nullable()
      .describe('What it does when destructive (`deactivate`, `archive`, …)'),
    waves: z
      .object({
        plan: wavePlanSchema,
        current: count.describe('The wave running now, 1-based'),
        currentRows: z.object({ afterRow: count, toRow: count.nullable() }),
        results: z.array(
          z.object({
            wave: count,
            rows: count,
            succeeded: count,
            failed: count,
            cancelled: count,
            failureRate: z.number(),
            halted: z.boolean(),
          }),
        ),
      })
      .nullable()
      .describe(
        "In canary waves: the plan, the wave running now with its rows, and each finished wave's figures",
      ),
    counts: z.object({
      total: count,
      queued: count,
      inProgress: count,
      waiting: count,
      succeeded: count,
      failed: count,
      cancelled: count,
    }),
  })
  .meta({ id: 'BulkChange' });
export type BulkChangeView = z.infer<typeof bulkChangeViewSchema>;

/** A bulk change as `bulkChangeViewSchema` describes it; the account names it when its creator did not. */
export const bulkChangeView = (
  change: BulkChange,
  account: { carrier: CarrierName; name: string },
): BulkChangeView => ({
  id: change.id,
  name: bulkChangeName(change, account.name),
  nameGiven: change.name !== null,
  carrierAccountId: change.carrierAccountId,
  carrier: account.carrier,
  changeType: change.changeType,
  status: change.status,
  options: change.options,
  createdAt: toIso(change.createdAt)!,
  createdBy: change.createdBy,
  scheduledFor: toIso(change.scheduledFor),
  startedAt: toIso(change.startedAt),
  completedAt: toIso(change.completedAt),
  cancelRequestedAt: toIso(change.cancelRequestedAt),
  parentId: change.parentId,
  linkedId: change.linkedId,
  retriedAsId: change.retriedAsId,
  undoOf: change.undoOf,
  undoneAsId: change.undoneAsId,
  failureReason: change.failureReason,
  notifyEmails: change.notifyEmails,
  pause: pauseView(change.pause),
  approval: approvalView(change.approval),
  destructiveAction: change.destructiveAction,
  waves: change.waves && {
    plan: change.waves.plan,
    current: change.waves.current + 1,
    currentRows: { afterRow: change.waves.afterRow, toRow: change.waves.toRow },
    results: change.waves.results,
  },
  counts: change.counts,
});

/** What a row produced, as explicit fields beside `result` (new MSISDN, IP, swapped ICCID, request id). */
const resultColumnFields = Object.fromEntries(
  resultColumns.map((column) => [column.json, z.string().nullable()]),
) as Record<ResultColumnName, z.ZodNullable<z.ZodString>>;

/** One row of a bulk change and what became of it. */
export const deviceChangeViewSchema = z
  .object({
    id: z.string(),
    row: count,
    iccid: z.string().nullable(),
    imei: z.string().nullable(),
    msisdn: z.string().nullable(),
    eid: z.string().nullable(),
    status: z.enum(rowStatuses),
    step: z.string().describe('The flow step it is at, or ended at'),
    attempts: count,
    request: jsonObject.describe('What the row asks for'),
    error: z
      .object({ code: z.string(), message: z.string(), carrierCode: z.string().optional() })
      .nullable()
      .describe("A code of docs/errors.md, with the carrier's own code where there is one"),
    result: jsonObject.nullable(),
    ...resultColumnFields,
    nextCheckAt: isoTime.nullable(),
    updatedAt: isoTime,
  })
  .meta({ id: 'BulkChangeRow' });
export type DeviceChangeView = z.infer<typeof deviceChangeViewSchema>;

export const deviceChangeView = (change: DeviceChange): DeviceChangeView => ({
  id: change.id,
  row: change.rowNumber,
  iccid: change.iccid,
  imei: change.imei,
  msisdn: change.msisdn,
  eid: change.eid,
  status: change.status,
  step: change.step,
  attempts: change.attempts,
  request: change.request,
  error: change.error,
  result: change.result,
  ...resultColumnValues(change),
  nextCheckAt: toIso(change.nextCheckAt),
  updatedAt: toIso(change.updatedAt)!,
});

/** An entry of a bulk change's log: a call that carried its rows, or a callback. */
export const auditEntryViewSchema = z
  .object({
    id: z.string(),
    at: isoTime,
    changeId: z.string().nullable().describe('The row the entry is linked to, when one'),
    action: z.string(),
    system: z.string(),
    actor: z.string(),
    outcome: z.string(),
    httpStatus: z.number().int().nullable(),
    durationMs: z.number().nullable(),
    request: z.unknown().describe('As sent, secrets redacted'),
    response: z.unknown(),
    rows: count
      .nullable()
      .describe('How many rows a batch call carried (or a callback woke), when linked to rows'),
    seq: count.nullable().describe("Its place in the tenant's tamper-evident chain, once sealed"),
  })
  .meta({ id: 'BulkChangeLogEntry' });

export const auditEntryView = (entry: AuditEntry): z.infer<typeof auditEntryViewSchema> => ({
  id: String(entry.id),
  at: toIso(entry.at)!,
  changeId: entry.deviceChangeId,
  action: entry.action,
  system: entry.system,
  actor: entry.actor,
  outcome: entry.outcome,
  httpStatus: entry.httpStatus,
  durationMs: entry.durationMs,
  request: entry.request,
  response: entry.response,
  rows: entry.linkedRows ? entry.linkedRows : null,
  seq: entry.seq,
});

/**
 * An entry on one row's timeline. A batch call's request and response are cut down to the row's part
 * (`sliced`: the elements naming its ICCID, IMEI, MSISDN or EID); the whole call is `GET /api/v1/audit/{id}`.
 */
export const rowAuditEntryView = (
  entry: AuditEntry,
  row: Pick<DeviceChange, 'id' | 'result' | IdentifierField>,
): RowAuditEntryView => {
  const view = auditEntryView(entry);
  const batch = entry.deviceChangeId !== row.id && (entry.linkedRows ?? 0) > 1;
  if (!batch) return { ...view, sliced: false };
  // A number the carrier gave the line on the way (a new service's MSISDN) names it in later calls.
  const assigned = typeof row.result?.msisdn === 'string' ? row.result.msisdn : null;
  const identifiers = [row.iccid, row.imei, row.msisdn, row.eid, assigned];
  return {
    ...view,
    request: sliceForLine(entry.request, identifiers),
    response: sliceForLine(entry.response, identifiers),
    sliced: true,
  };
};

/** An entry of a row's timeline: `sliced` when a batch call's request and response were cut down to the row's part. */
export const rowAuditEntryViewSchema = auditEntryViewSchema.extend({
  sliced: z
    .boolean()
    .describe("A batch call cut down to the row's part; GET /api/v1/audit/{id} has it whole"),
});
export type RowAuditEntryView = z.infer<typeof rowAuditEntryViewSchema>;

/** One row with its timeline, and the cursor of the rest of the timeline (`…/log?changeId=`). */
export const rowWithTimelineSchema = deviceChangeViewSchema.extend({
  timeline: z.array(rowAuditEntryViewSchema),
  timelineNextCursor: z.string().nullable(),
});

/** A dry run's report: what the real submission would do with each row, and how long it would take to send. */
export const dryRunReportSchema = z
  .object({
    dryRun: z.literal(true),
    summary: z.object({ total: count, wouldSucceed: count, wouldFail: count, wouldSkip: count }),
    estimate: sendEstimateSchema,
    fileIssues: z
      .array(errorDetailSchema)
      .describe(
        'Problems of the whole request (columns, options): the real submission would be refused for them',
      ),
    rows: z.array(dryRunRowSchema),
  })
  .meta({ id: 'DryRunReport' });
export type DryRunReport = z.infer<typeof dryRunReportSchema>;

/** Rows refused at intake when the caller accepted the valid ones (`acceptValidRows`, a retry). */
const rejectedRows = z
  .array(errorDetailSchema)
  .optional()
  .describe('Rows refused, when valid rows were accepted');

/** `201` of `POST /bulk-changes`: the new bulk change, the rows refused and the rows left out. */
export const createdBulkChangeSchema = bulkChangeViewSchema.extend({
  rejectedRows,
  skippedRows: count.optional().describe('Rows left out by skipAlreadyInTarget'),
});

/** `201` of a retry: the new bulk change of the failed rows, and those it could not take. */
export const retryBulkChangeSchema = bulkChangeViewSchema.extend({ rejectedRows });

/** `201` of an undo: the reverse bulk change, and the rows it leaves alone and why. */
export const undoBulkChangeSchema = bulkChangeViewSchema.extend({
  irreversible: z.array(irreversibleRowSchema),
});

/** `200` of an undo's dry run. */
export const undoDryRunSchema = dryRunReportSchema.extend({
  undoOf: z.string(),
  irreversible: z.array(irreversibleRowSchema),
});

type IdentifierField = 'iccid' | 'imei' | 'msisdn' | 'eid';
