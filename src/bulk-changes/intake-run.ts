import { createHash, type Hash } from 'node:crypto';
import { z } from 'zod';
import { type ErrorDetail, errorCodes } from '../core/errors.ts';
import type { Executor } from '../db/database.ts';
import { isoTime } from '../shared/answers.ts';
import { bulkChangesRepository } from './bulk-changes-repository.ts';
import type { InputRow, RowBatch } from './csv-input.ts';
import {
  type IntakeContext,
  type IntakeResult,
  type RowWait,
  type SkippedRow,
  type ValidRow,
  validateRows,
  withoutColumns,
} from './intake.ts';
import type { ExportedValueChange } from './target-state.ts';

/** Details listed in one answer; the message says how many more there were. */
export const MAX_DETAILS = 1000;

/** One row of a dry run's report: what the real submission would do with it. */
export const dryRunRowSchema = z.object({
  row: z.number().int(),
  iccid: z.string().nullable(),
  outcome: z
    .enum(['would_succeed', 'would_fail', 'would_skip'])
    .describe(
      'would_skip: the line already is what the row asks for and skipAlreadyInTarget (or a round trip) leaves it out (code ALREADY_IN_TARGET), or a round-trip row was not edited (code NOT_EDITED)',
    ),
  code: z.string().optional(),
  message: z.string().optional(),
  field: z.string().optional(),
  current: z
    .string()
    .nullable()
    .optional()
    .describe("The line's value now, for change types that set one (status, rate plan)"),
  target: z.string().optional().describe('The value the row asks for'),
  alreadyInTarget: z
    .literal(true)
    .optional()
    .describe('Set when the line already is what the row asks for, whether or not the row is skipped'),
  notBefore: isoTime
    .optional()
    .describe(
      "A row that would succeed but not before then: its effective date, or its line's carrier quota spent this period",
    ),
  waitsFor: z
    .enum(['effective_date', 'line_quota'] as const satisfies readonly RowWait['reason'][])
    .optional(),
  note: z
    .string()
    .optional()
    .describe(
      'An edited round-trip row whose line moved since the export: "The line changed since the export: was X, now Y"',
    ),
});
export type DryRunRow = z.infer<typeof dryRunRowSchema>;

export interface IntakeRunContext extends IntakeContext {
  /** CSV columns already reported as not used by the change type, left out of the rows. */
  badColumns: string[];
  /** The workbook sheet the rows are, when other sheets feed them: their problems name it. */
  rowsSheet?: string;
}

/**
 * One request's rows going through intake a batch at a time (DESIGN §7): it keeps what must span the
 * whole file — the keys seen (duplicates), the first problems, the counts, the request's hash — and
 * nothing else, so memory stays flat however long the file.
 */
export class IntakeRun {
  readonly #context: IntakeRunContext;
  readonly #keepDryRun: boolean;
  readonly #seen = new Map<string, number>();
  readonly #hash: Hash;
  readonly issues: ErrorDetail[] = [];
  /** Problems beyond the first {@link MAX_DETAILS}. */
  moreIssues = 0;
  total = 0;
  valid = 0;
  rejectedRows = 0;
  /** Rows left out because their line already is what they ask for. */
  skipped = 0;
  /** Valid rows by the flow step they start at, for the estimate of the sending time. */
  readonly rowsByFirstStep = new Map<string, number>();
  /** The earliest row start, when every valid row waits for one (a change scheduled for its date). */
  firstStart: number | null = null;
  /** Rows that wait before they are sent (effective date, line quota), and when the last may go. */
  waitingRows = 0;
  lastStart: number | null = null;
  #everyRowWaits = true;
  readonly dryRunRows: DryRunRow[] = [];

  constructor(
    context: IntakeRunContext,
    options: { requestFields: unknown; requestIssues: ErrorDetail[]; keepDryRun: boolean },
  ) {
    this.#context = context;
    this.#hash = createHash('sha256').update(JSON.stringify(options.requestFields));
    this.#keepDryRun = options.keepDryRun;
    this.#missing = new Set(
      options.requestIssues.filter((issue) => issue.code === 'MISSING_COLUMN').map((issue) => issue.field!),
    );
    for (const issue of options.requestIssues) this.#note(issue);
  }

  /** Fields a CSV has no column for: said once for the file, not again for every row. */
  readonly #missing: Set<string>;

  /**
   * Request-level problems (columns, options) and those of another sheet (a workbook's customer
   * assignment): the file cannot be accepted as it is.
   */
  get fileIssues(): ErrorDetail[] {
    return this.issues.filter(
      (issue) =>
        issue.row === undefined || (issue.sheet !== undefined && issue.sheet !== this.#context.rowsSheet),
    );
  }

  /** Feeds the request's hash only (an idempotent replay compares it). */
  hashOnly(batch: RowBatch): void {
    this.total += batch.rows.length;
    this.#hash.update(JSON.stringify(batch.rows));
  }

  get requestHash(): string {
    return this.#hash.copy().digest('hex');
  }

  /**
   * Checks one batch; returns its valid rows (to write). With `into` (the bulk change being written), a
   * line repeated from an earlier batch is found among the rows already written; without (a dry run),
   * in the keys kept in memory.
   */
  async check(batch: RowBatch, into?: { db: Executor; bulkChangeId: string }): Promise<ValidRow[]> {
    const db = into?.db ?? this.#context.db;
    this.hashOnly(batch);
    const rejected = new Set<number>();
    for (const issue of batch.issues) {
      this.#note(issue);
      if (issue.row !== undefined) rejected.add(issue.row);
    }
    const checked = await validateRows({
      ...this.#context,
      db,
      rows: withoutColumns(
        batch.rows.filter((row) => !rejected.has(row.row)),
        this.#context.badColumns,
      ),
      ...(into ? { bulkChangeId: into.bulkChangeId } : { seen: this.#seen }),
    });
    const valid = into ? await this.#withoutRepeats(checked, into) : checked.valid;
    const origins = new Map(batch.rows.map((row) => [row.row, row.origins]));
    for (const issue of checked.issues) this.#note(whereWritten(issue, origins));
    for (const row of checked.rejectedRows) rejected.add(row);
    this.rejectedRows += rejected.size;
    this.valid += valid.length;
    this.skipped += checked.skipped.length;
    for (const row of valid) {
      this.rowsByFirstStep.set(row.step, (this.rowsByFirstStep.get(row.step) ?? 0) + 1);
      if (row.notBefore === undefined) {
        this.#everyRowWaits = false;
        continue;
      }
      this.firstStart = Math.min(this.firstStart ?? row.notBefore, row.notBefore);
      this.lastStart = Math.max(this.lastStart ?? row.notBefore, row.notBefore);
      this.waitingRows += 1;
    }
    if (this.#keepDryRun) this.#report(batch, valid, checked.skipped, [...batch.issues, ...checked.issues]);
    return valid;
  }

  /** Rows whose line an earlier batch already has: duplicates, moved from valid to issues. */
  async #withoutRepeats(
    checked: IntakeResult,
    into: { db: Executor; bulkChangeId: string },
  ): Promise<ValidRow[]> {
    const earlier = await bulkChangesRepository(into.db).rowsForDevices(
      into.bulkChangeId,
      checked.valid.map((row) => row.device.id),
    );
    if (earlier.size === 0) return checked.valid;
    const keyField = this.#context.flow.newLines?.keyField ?? this.#context.adapter.keyField;
    return checked.valid.filter((row) => {
      const first = earlier.get(row.device.id);
      if (first === undefined) return true;
      const key = row.identifiers[keyField];
      checked.issues.push({
        row: row.row,
        field: keyField,
        code: 'DUPLICATE_ROW',
        message: `${keyField} ${key} is already in row ${first}`,
      });
      checked.rejectedRows.add(row.row);
      return false;
    });
  }

  /** When every valid row waits for its own start, the bulk change waits for the first of them. */
  get scheduledStart(): number | null {
    return this.#everyRowWaits ? this.firstStart : null;
  }

  #note(issue: ErrorDetail): void {
    if (issue.row !== undefined && issue.field !== undefined && this.#missing.has(issue.field)) return;
    const sheet = this.#context.rowsSheet;
    const located = sheet && issue.row !== undefined && !issue.sheet ? { sheet, ...issue } : issue;
    if (this.issues.length < MAX_DETAILS) this.issues.push(located);
    else this.moreIssues += 1;
  }

  #report(batch: RowBatch, valid: ValidRow[], skipped: SkippedRow[], issues: ErrorDetail[]): void {
    const firstIssue = new Map<number, ErrorDetail>();
    for (const issue of issues)
      if (issue.row !== undefined && !firstIssue.has(issue.row)) firstIssue.set(issue.row, issue);
    const validRows = new Map(valid.map((row) => [row.row, row]));
    const skippedRows = new Map(skipped.map((row) => [row.row, row]));
    for (const input of batch.rows) {
      const issue = firstIssue.get(input.row);
      const iccid = typeof input.fields.iccid === 'string' ? input.fields.iccid : null;
      const state = (validRows.get(input.row) ?? skippedRows.get(input.row))?.state;
      const change = state
        ? {
            current: state.current,
            target: state.target,
            ...(state.alreadyInTarget ? { alreadyInTarget: true as const } : {}),
          }
        : {};
      const skippedRow = skippedRows.get(input.row);
      const validRow = validRows.get(input.row);
      if (skippedRow && !issue) {
        this.dryRunRows.push({
          row: input.row,
          iccid,
          outcome: 'would_skip',
          ...skipReason(skippedRow),
          field: skippedRow.state.field,
          ...change,
        });
      } else if (validRow && !issue) {
        this.dryRunRows.push({
          row: input.row,
          iccid,
          outcome: 'would_succeed',
          ...change,
          ...waitOf(validRow),
          ...(validRow.changedSinceExport
            ? { note: changedSinceExportNote(validRow.changedSinceExport) }
            : {}),
        });
      } else {
        this.dryRunRows.push({
          row: input.row,
          iccid,
          outcome: 'would_fail',
          code: issue?.code ?? 'INVALID_ROW',
          message: issue?.message ?? 'The file has problems',
          ...(issue?.field ? { field: issue.field } : {}),
        });
      }
    }
  }
}

/** When and why a valid row waits, as the preview shows it. */
/** Why a row is left out, as a dry-run row's code and message. */
function skipReason({ reason, state }: SkippedRow): { code: string; message: string } {
  if (reason === 'not_edited')
    return {
      code: errorCodes.NOT_EDITED,
      message: `Not edited in the file exported for editing; it is left out (the line is ${shown(state.current)})`,
    };
  return {
    code: errorCodes.ALREADY_IN_TARGET,
    message: `The line already is ${state.target}; it is left out`,
  };
}

const changedSinceExportNote = ({ was, now }: ExportedValueChange): string =>
  `The line changed since the export: was ${shown(was)}, now ${shown(now)}`;

const shown = (value: string | null) => value ?? '(blank)';

function waitOf(row: ValidRow): Pick<DryRunRow, 'notBefore' | 'waitsFor' | 'message'> {
  if (row.notBefore === undefined || !row.waitsFor) return {};
  return {
    notBefore: new Date(row.notBefore).toISOString(),
    waitsFor: row.waitsFor.reason,
    ...(row.waitsFor.reason === 'line_quota' ? { message: row.waitsFor.message } : {}),
  };
}

/** A problem with a value another sheet gave the row is reported at that sheet's row. */
function whereWritten(issue: ErrorDetail, origins: Map<number, InputRow['origins']>): ErrorDetail {
  const origin = issue.row !== undefined && issue.field ? origins.get(issue.row)?.[issue.field] : undefined;
  return origin ? { ...issue, ...origin } : issue;
}
