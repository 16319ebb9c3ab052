import {
  type BulkChangeAnswer,
  type ChangeAnswer,
  type DryRunAnswer,
  type ErrorAnswer,
  type ErrorDetailAnswer,
  type IrreversibleAnswer,
  isFollowUpOf,
} from './api-answers.ts';
import { capped, textTable } from './text-table.ts';

/** Lines of problems printed at most; a 422 can list a thousand. */
const MAX_LINES = 50;

/** Where a problem is: `row 12`, `Customer assignment row 3` (a workbook's other sheet), or the file. */
const place = (detail: ErrorDetailAnswer) => {
  if (detail.row === undefined) return detail.sheet ?? 'file';
  return detail.sheet ? `${detail.sheet} row ${detail.row}` : `row ${detail.row}`;
};

const detailLine = (detail: ErrorDetailAnswer) => [
  place(detail),
  detail.field ?? '',
  detail.code,
  detail.message,
];

const listed = (lines: string[][]) => {
  const { shown, more } = capped(lines, MAX_LINES);
  return [textTable(shown), more].filter(Boolean).join('\n');
};

/** A refusal: the server's message, then every detail as `row 12  iccid  INVALID_LUHN  message`. */
export function refusalReport(status: number, error: ErrorAnswer): string {
  const head = `Refused (${status} ${error.code}): ${error.message}`;
  return error.details.length ? `${head}\n${listed(error.details.map(detailLine))}\n` : `${head}\n`;
}

/** Why a dry run's rows are left out: their line already is as asked, or (a round trip) not edited. */
function leftOutWhy(report: DryRunAnswer): string {
  const notEdited = report.rows.filter((row) => row.code === 'NOT_EDITED').length;
  const already = report.summary.wouldSkip - notEdited;
  const reasons = [
    ...(already ? [`${already} whose line already is what they ask for`] : []),
    ...(notEdited ? [`${notEdited} not edited in the file exported for editing`] : []),
  ];
  return reasons.join(', ');
}

export function dryRunReport(report: DryRunAnswer): string {
  const { total, wouldSucceed, wouldFail, wouldSkip } = report.summary;
  const parts = [
    `Dry run: ${total} rows; ${wouldSucceed} would succeed, ${wouldFail} would fail` +
      (wouldSkip ? `, ${wouldSkip} left out (${leftOutWhy(report)}).` : '.'),
  ];
  if (report.fileIssues.length) {
    parts.push('The file has problems (the real submission would be refused for them):');
    parts.push(listed(report.fileIssues.map(detailLine)));
  }
  const waiting = report.rows.filter((row) => row.notBefore !== undefined);
  if (waiting.length) {
    // They succeed, later: their line's carrier quota is spent this period, or they have a date.
    parts.push('Rows that would wait before they are sent:');
    parts.push(
      listed(
        waiting.map((row) => [
          `row ${row.row}`,
          row.iccid ?? '',
          row.notBefore ?? '',
          row.waitsFor === 'line_quota' ? (row.message ?? '') : 'effective date',
        ]),
      ),
    );
  }
  const noted = report.rows.filter((row) => row.note !== undefined);
  if (noted.length) {
    // Edited rows of a round trip whose line someone changed since the export: sent as asked, but said.
    parts.push('Rows whose line changed since the export (sent as asked):');
    parts.push(listed(noted.map((row) => [`row ${row.row}`, row.iccid ?? '', row.note ?? ''])));
  }
  const failing = report.rows.filter((row) => row.outcome === 'would_fail');
  if (failing.length) {
    parts.push('Rows that would fail:');
    parts.push(
      listed(failing.map((row) => [`row ${row.row}`, row.iccid ?? '', row.code ?? '', row.message ?? ''])),
    );
  }
  return `${parts.join('\n')}\n`;
}

/** The rows an undo leaves alone, as `row  line  REASON  message`; nothing when there are none. */
export function irreversibleReport(rows: IrreversibleAnswer[]): string {
  if (rows.length === 0) return '';
  const lines = rows.map((row) => [
    `row ${row.row}`,
    row.iccid ?? row.msisdn ?? row.eid ?? '',
    row.reason,
    row.message,
  ]);
  return `Not reversed (${rows.length} rows):\n${listed(lines)}\n`;
}

export function createdReport(bulkChange: BulkChangeAnswer, replayed: boolean): string {
  const { counts } = bulkChange;
  const lines = [
    `Bulk change ${bulkChange.id}: ${bulkChange.status}, ${counts.total} rows` +
      (bulkChange.scheduledFor ? `, scheduled for ${bulkChange.scheduledFor}` : '') +
      (replayed ? ' (this Idempotency-Key was used before: this is that bulk change)' : ''),
    `  queued ${counts.queued}  in progress ${counts.inProgress + counts.waiting}  succeeded ${counts.succeeded}  failed ${counts.failed}  cancelled ${counts.cancelled}`,
  ];
  if (bulkChange.skippedRows)
    lines.push(
      `Left out: ${bulkChange.skippedRows} rows whose line already is what they ask for, or not edited in a file exported for editing`,
    );
  if (bulkChange.rejectedRows.length) {
    lines.push(`Left out (${bulkChange.rejectedRows.length} problems, --accept-valid-rows):`);
    lines.push(listed(bulkChange.rejectedRows.map(detailLine)));
  }
  return `${lines.join('\n')}\n`;
}

/** Every failed row as `row  iccid  code  message` (the line's ICCID, or its MSISDN / EID). */
export function failedRowsReport(rows: ChangeAnswer[]): string {
  if (rows.length === 0) return '';
  const table = textTable([
    ['row', 'iccid', 'code', 'message'],
    ...rows.map((change) => [
      String(change.row),
      change.iccid ?? change.msisdn ?? change.eid ?? '',
      change.error?.code ?? '',
      errorMessage(change.error),
    ]),
  ]);
  return `Failed rows (${rows.length}):\n${table}\n`;
}

/** The row's message, with the carrier's code when the message does not already say it. */
function errorMessage(error: ChangeAnswer['error']): string {
  if (!error) return '';
  const { message, carrierCode } = error;
  return carrierCode && !message.includes(carrierCode) ? `${message} (carrier code ${carrierCode})` : message;
}

export function finishedReport(bulkChange: {
  id: string;
  status: string;
  counts: BulkChangeAnswer['counts'];
}) {
  const { counts } = bulkChange;
  return `Bulk change ${bulkChange.id} ${bulkChange.status}: ${counts.succeeded} succeeded, ${counts.failed} failed, ${counts.cancelled} cancelled of ${counts.total}\n`;
}

export function followUpReport(followUp: BulkChangeAnswer, startedBy: { id: string }): string {
  return `Follow-up: bulk change ${followUp.id} (${followUp.changeType}, ${followUp.counts.total} rows), started by ${startedBy.id} when it finished\n`;
}

/** How a time is shown in tables: to the second, in UTC, without the ISO noise. */
const shortTime = (iso: string | null) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, 'Z') : '');

/** `1h 02m 03s`, `2m 05s`, `4s`. */
function duration(fromIso: string, toIso: string): string {
  const seconds = Math.max(0, Math.round((Date.parse(toIso) - Date.parse(fromIso)) / 1000));
  const [h, m, s] = [Math.floor(seconds / 3600), Math.floor((seconds % 3600) / 60), seconds % 60];
  const pad = (n: number) => String(n).padStart(2, '0');
  if (h > 0) return `${h}h ${pad(m)}m ${pad(s)}s`;
  return m > 0 ? `${m}m ${pad(s)}s` : `${s}s`;
}

/**
 * One bulk change for a person: what, where, its status and counts, when, and how it is linked
 * (`linked` is the change its `linkedId` names, read to tell a follow-up from the change that started it).
 */
export function statusReport(change: BulkChangeAnswer, linked?: BulkChangeAnswer): string {
  const { counts } = change;
  const open = counts.queued + counts.inProgress + counts.waiting;
  const lines: string[][] = [
    ['status', change.status],
    ['type', change.changeType],
    ...(change.name ? [['name', change.name]] : []),
    ['account', `${change.carrierAccountId} (${change.carrier})`],
    [
      'rows',
      `${counts.total}: succeeded ${counts.succeeded}, failed ${counts.failed}, cancelled ${counts.cancelled}, open ${open}` +
        (open > 0
          ? ` (queued ${counts.queued}, in progress ${counts.inProgress}, waiting ${counts.waiting})`
          : ''),
    ],
    ['created', `${shortTime(change.createdAt)} by ${change.createdBy}`],
  ];
  if (change.scheduledFor) lines.push(['scheduled', shortTime(change.scheduledFor)]);
  if (change.startedAt) lines.push(['started', shortTime(change.startedAt)]);
  if (change.completedAt)
    lines.push([
      'finished',
      `${shortTime(change.completedAt)} (${duration(change.startedAt ?? change.createdAt, change.completedAt)})`,
    ]);
  if (change.failureReason) lines.push(['why failed', change.failureReason]);
  if (change.parentId) lines.push(['retry of', change.parentId]);
  if (change.retriedAsId) lines.push(['retried as', change.retriedAsId]);
  if (change.undoOf) lines.push(['undo of', change.undoOf]);
  if (change.undoneAsId) lines.push(['undone by', change.undoneAsId]);
  if (linked) {
    lines.push([
      isFollowUpOf(linked, change) ? 'follow-up' : 'follow-up of',
      `${linked.id} (${linked.changeType}, ${linked.status})`,
    ]);
  }
  return `Bulk change ${change.id}\n${textTable(lines.map(([name, value]) => [`  ${name}`, value]))}\n`;
}

/** Bulk changes as a table, newest first, as the API lists them. */
export function listReport(changes: BulkChangeAnswer[]): string {
  if (changes.length === 0) return 'No bulk changes.\n';
  const rows = changes.map((change) => [
    change.id,
    shortTime(change.createdAt),
    change.changeType,
    change.carrier,
    change.status,
    String(change.counts.total),
    String(change.counts.succeeded),
    String(change.counts.failed),
  ]);
  return `${textTable([['ID', 'CREATED', 'TYPE', 'CARRIER', 'STATUS', 'ROWS', 'SUCCEEDED', 'FAILED'], ...rows])}\n`;
}
