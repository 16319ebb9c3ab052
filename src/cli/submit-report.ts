import type {
  BulkChangeAnswer,
  ChangeAnswer,
  DryRunAnswer,
  ErrorAnswer,
  ErrorDetailAnswer,
} from './api-answers.ts';
import { capped, textTable } from './text-table.ts';

/** Lines of problems printed at most; a 422 can list a thousand. */
const MAX_LINES = 50;

const detailLine = (detail: ErrorDetailAnswer) => [
  detail.row === undefined ? 'file' : `row ${detail.row}`,
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

export function dryRunReport(report: DryRunAnswer): string {
  const { total, wouldSucceed, wouldFail } = report.summary;
  const parts = [`Dry run: ${total} rows; ${wouldSucceed} would succeed, ${wouldFail} would fail.`];
  if (report.fileIssues.length) {
    parts.push('The file has problems (the real submission would be refused for them):');
    parts.push(listed(report.fileIssues.map(detailLine)));
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

export function createdReport(bulkChange: BulkChangeAnswer, replayed: boolean): string {
  const { counts } = bulkChange;
  const lines = [
    `Bulk change ${bulkChange.id}: ${bulkChange.status}, ${counts.total} rows` +
      (bulkChange.scheduledFor ? `, scheduled for ${bulkChange.scheduledFor}` : '') +
      (replayed ? ' (this Idempotency-Key was used before: this is that bulk change)' : ''),
    `  queued ${counts.queued}  in progress ${counts.inProgress + counts.waiting}  succeeded ${counts.succeeded}  failed ${counts.failed}  cancelled ${counts.cancelled}`,
  ];
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
