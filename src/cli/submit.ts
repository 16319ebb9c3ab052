import { accessSync, constants, createReadStream, statSync } from 'node:fs';
import { XLSX_CONTENT_TYPE } from '../bulk-changes/upload-input.ts';
import { type BulkChangeAnswer, bulkChangeSchema, dryRunSchema } from './api-answers.ts';
import { type ApiClient, apiError, createApiClient, describeAnswer, expectShape } from './api-client.ts';
import { CliError } from './cli-error.ts';
import { failedRows, followProgress } from './follow-bulk-change.ts';
import { createProgressBar, type ProgressOutput } from './progress-bar.ts';
import { parseSubmitArguments, type SubmitArguments, submitUsage } from './submit-arguments.ts';
import {
  createdReport,
  dryRunReport,
  failedRowsReport,
  finishedReport,
  refusalReport,
} from './submit-report.ts';
import { resolveAccountId, resolveConnection } from './submit-target.ts';

/** Exit codes of `bulkchange submit` (also in its usage text and the README). */
export const submitExitCodes = { ok: 0, refused: 1, cannotSubmit: 2, rowsFailed: 3 } as const;

export interface SubmitOutput {
  /** Reports: the bulk change, refused / would-fail / failed rows. */
  stdout: { write(text: string): unknown };
  /** Errors of the command itself and the progress bar (a TTY gets it redrawn in place). */
  stderr: ProgressOutput;
}

/** `bulkchange submit`: returns the exit code. */
export async function submit(
  argv: string[],
  output: SubmitOutput = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  try {
    const args = parseSubmitArguments(argv);
    if (args === 'help') {
      output.stdout.write(submitUsage);
      return submitExitCodes.ok;
    }
    checkReadableFile(args.file);
    const connection = resolveConnection(args);
    const client = createApiClient(connection.baseUrl, connection.apiKey);
    try {
      return await submitFile(client, args, output);
    } finally {
      await client.close();
    }
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    output.stderr.write(`${error.message}\n`);
    return submitExitCodes.cannotSubmit;
  }
}

function checkReadableFile(file: string): void {
  try {
    if (!statSync(file).isFile()) throw new CliError(`${file} is not a file`);
    accessSync(file, constants.R_OK);
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`Cannot read ${file}: ${(error as Error).message}`);
  }
}

async function submitFile(client: ApiClient, args: SubmitArguments, output: SubmitOutput): Promise<number> {
  const accountId = await resolveAccountId(client, args.account);
  const answer = await client.postFile(
    `/api/v1/bulk-changes?${creationQuery(args, accountId)}`,
    createReadStream(args.file),
    contentTypeOf(args.file),
    args.idempotencyKey ? { 'idempotency-key': args.idempotencyKey } : {},
  );
  const what = 'POST /api/v1/bulk-changes';
  if (answer.status === 200) {
    const report = expectShape(answer, dryRunSchema, what);
    output.stdout.write(dryRunReport(report));
    const clean = report.summary.wouldFail === 0 && report.fileIssues.length === 0;
    return clean ? submitExitCodes.ok : submitExitCodes.refused;
  }
  if (answer.status === 201) {
    const created = expectShape(answer, bulkChangeSchema, what);
    output.stdout.write(createdReport(created, answer.headers['idempotent-replayed'] === 'true'));
    return args.wait ? waitForEnd(client, created, output) : submitExitCodes.ok;
  }
  const error = apiError(answer.body);
  if (answer.status >= 400 && answer.status < 500 && error) {
    output.stdout.write(refusalReport(answer.status, error));
    return submitExitCodes.refused;
  }
  throw new CliError(`${what} answered ${answer.status}: ${describeAnswer(answer.body)}`);
}

/** An .xlsx goes as a workbook, anything else as CSV (the server also knows a workbook by its first bytes). */
const contentTypeOf = (file: string) => (/\.xlsx$/i.test(file) ? XLSX_CONTENT_TYPE : 'text/csv');

/** The query of a file upload (API §2): the request's own fields, then every --option. */
function creationQuery(args: SubmitArguments, accountId: string): URLSearchParams {
  const query = new URLSearchParams({ carrierAccountId: accountId, changeType: args.type });
  if (args.dryRun) query.set('dryRun', 'true');
  if (args.acceptValidRows) query.set('acceptValidRows', 'true');
  if (args.schedule) query.set('scheduledFor', args.schedule);
  for (const [name, value] of args.options) query.set(name, value);
  return query;
}

async function waitForEnd(client: ApiClient, created: BulkChangeAnswer, output: SubmitOutput) {
  const bar = createProgressBar(output.stderr);
  const last = await followProgress(client, created.id, bar.update);
  bar.update(last);
  bar.finish();
  output.stdout.write(finishedReport({ id: created.id, ...last }));
  if (last.counts.failed > 0) output.stdout.write(failedRowsReport(await failedRows(client, created.id)));
  return last.counts.succeeded === last.counts.total ? submitExitCodes.ok : submitExitCodes.rowsFailed;
}
