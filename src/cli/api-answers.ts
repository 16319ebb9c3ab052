import { z } from 'zod';
import { errorDetailSchema } from '../core/errors.ts';

/**
 * The parts of the API's answers (API §1–2) that the CLI reads. Checked like any other input: an
 * answer that does not match is reported instead of printed half-understood. Lenient where the
 * server's own schemas are exact (ADR 0058): a CLI may talk to an older server.
 */
export type ErrorDetailAnswer = z.infer<typeof errorDetailSchema>;

export const errorAnswerSchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.array(errorDetailSchema).default([]),
  }),
});
export type ErrorAnswer = z.infer<typeof errorAnswerSchema>['error'];

export const countsSchema = z.object({
  total: z.number(),
  queued: z.number(),
  inProgress: z.number(),
  waiting: z.number(),
  succeeded: z.number(),
  failed: z.number(),
  cancelled: z.number(),
});
export type Counts = z.infer<typeof countsSchema>;

/** What the `progress` and `done` events carry, and the part of a bulk change the CLI shows. */
export const progressSchema = z.object({ status: z.string(), counts: countsSchema });
export type Progress = z.infer<typeof progressSchema>;

export const bulkChangeSchema = progressSchema.extend({
  id: z.string(),
  /** Given or generated (ADR 0054); absent from servers older than names. */
  name: z.string().optional(),
  carrierAccountId: z.string(),
  carrier: z.string(),
  changeType: z.string(),
  createdAt: z.string(),
  createdBy: z.string(),
  scheduledFor: z.string().nullable(),
  startedAt: z.string().nullable(),
  completedAt: z.string().nullable(),
  /** The bulk change whose failed rows this one retries. */
  parentId: z.string().nullable(),
  /** A follow-up this one started when it finished, or the one that started this one (API §2). */
  linkedId: z.string().nullable(),
  retriedAsId: z.string().nullable().default(null),
  /** The bulk change this one reverses, and the one that reverses this one (an undo). */
  undoOf: z.string().nullable().default(null),
  undoneAsId: z.string().nullable().default(null),
  failureReason: z.string().nullable().default(null),
  rejectedRows: z.array(errorDetailSchema).default([]),
  /** Rows left out: their line already is what they ask for (ADR 0054), or a round trip's rows not edited (ADR 0059). */
  skippedRows: z.number().default(0),
});
export type BulkChangeAnswer = z.infer<typeof bulkChangeSchema>;

export const dryRunSchema = z.object({
  dryRun: z.literal(true),
  summary: z.object({
    total: z.number(),
    wouldSucceed: z.number(),
    wouldFail: z.number(),
    wouldSkip: z.number().default(0),
  }),
  fileIssues: z.array(errorDetailSchema).default([]),
  rows: z.array(
    z.object({
      row: z.number(),
      iccid: z.string().nullable(),
      outcome: z.enum(['would_succeed', 'would_fail', 'would_skip']),
      code: z.string().optional(),
      message: z.string().optional(),
      field: z.string().optional(),
      notBefore: z.string().optional(),
      waitsFor: z.enum(['line_quota', 'effective_date']).optional(),
      /** An edited round-trip row whose line changed since the export (ADR 0059). */
      note: z.string().optional(),
    }),
  ),
});
export type DryRunAnswer = z.infer<typeof dryRunSchema>;

/** A row an undo leaves alone, and why (docs/guardrails.md#undo). */
export const irreversibleSchema = z.object({
  row: z.number(),
  iccid: z.string().nullable(),
  msisdn: z.string().nullable(),
  eid: z.string().nullable(),
  reason: z.string(),
  message: z.string(),
});
export type IrreversibleAnswer = z.infer<typeof irreversibleSchema>;

export const undoCreatedSchema = bulkChangeSchema.extend({ irreversible: z.array(irreversibleSchema) });
export const undoDryRunSchema = dryRunSchema.extend({
  undoOf: z.string(),
  irreversible: z.array(irreversibleSchema),
});

export const changeSchema = z.object({
  row: z.number(),
  iccid: z.string().nullable(),
  msisdn: z.string().nullable(),
  eid: z.string().nullable(),
  status: z.string(),
  error: z.object({ code: z.string(), message: z.string(), carrierCode: z.string().optional() }).nullable(),
});
export type ChangeAnswer = z.infer<typeof changeSchema>;

export const carrierAccountSchema = z.object({ id: z.string(), name: z.string(), carrier: z.string() });

/**
 * Whether `linked` (the change `change.linkedId` names) is a follow-up `change` started when it
 * finished. The link goes both ways (each names the other): the follow-up is the younger of the two.
 */
export const isFollowUpOf = (linked: BulkChangeAnswer, change: BulkChangeAnswer) =>
  linked.createdAt > change.createdAt;
