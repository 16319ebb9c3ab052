import { errorCodes } from '../core/errors.ts';
import type { ChangeAnswer } from './api-answers.ts';
import type { ApiClient } from './api-client.ts';
import type { CliOutput } from './cli-output.ts';
import { type ExitCode, exitCodes } from './exit-codes.ts';
import { failedRows, followProgress, followUpOf, getBulkChange } from './follow-bulk-change.ts';
import { createProgressBar } from './progress-bar.ts';
import { failedRowsReport, finishedReport, followUpReport } from './reports.ts';

/**
 * Follows bulk change `id` to its end (progress on stderr), then each follow-up it started, the same
 * way: a new service is not done while its customer assignment still runs. Each end is reported with
 * its failed rows; exits 0 only when every row of every one of them succeeded.
 */
export async function waitForEnd(client: ApiClient, id: string, output: CliOutput): Promise<ExitCode> {
  let allSucceeded = true;
  for (let current: string | undefined = id; current !== undefined; ) {
    const bar = createProgressBar(output.stderr);
    bar.update(await followProgress(client, current, bar.update));
    bar.finish();
    const ended = await getBulkChange(client, current);
    output.stdout.write(finishedReport(ended));
    if (ended.counts.failed > 0) output.stdout.write(failedReport(await failedRows(client, ended.id)));
    allSucceeded &&= ended.counts.succeeded === ended.counts.total;
    const followUp = await followUpOf(client, ended);
    if (followUp) output.stdout.write(followUpReport(followUp, ended));
    current = followUp?.id;
  }
  return allSucceeded ? exitCodes.ok : exitCodes.unsuccessful;
}

/**
 * The failed rows, but those of a follow-up that failed because their line's change failed first are
 * counted, not listed again: they were just listed with the change they followed.
 */
function failedReport(rows: ChangeAnswer[]): string {
  const isKnown = (row: ChangeAnswer) => row.error?.code === errorCodes.PARENT_CHANGE_FAILED;
  const known = rows.filter(isKnown).length;
  return (
    failedRowsReport(rows.filter((row) => !isKnown(row))) +
    (known > 0 ? `${known} rows not done: their line's change failed in the bulk change above\n` : '')
  );
}
