import { accessSync, constants, createReadStream, statSync } from 'node:fs';
import { XLSX_CONTENT_TYPE } from '../bulk-changes/upload-input.ts';
import { bulkChangeSchema, dryRunSchema } from './api-answers.ts';
import { type ApiClient, apiError, createApiClient, describeAnswer, expectShape } from './api-client.ts';
import { resolveAccountId, resolveConnection } from './api-target.ts';
import { CliError } from './cli-error.ts';
import { type CliOutput, processOutput } from './cli-output.ts';
import { type ExitCode, exitCodes } from './exit-codes.ts';
import { createdReport, dryRunReport, refusalReport } from './reports.ts';
import { parseSubmitArguments, type SubmitArguments, submitUsage } from './submit-arguments.ts';
import { waitForEnd } from './wait-for-end.ts';

/** `bulkchange submit`: returns the exit code. */
export async function submit(argv: string[], output: CliOutput = processOutput): Promise<ExitCode> {
  try {
    const args = parseSubmitArguments(argv);
    if (args === 'help') {
      output.stdout.write(submitUsage);
      return exitCodes.ok;
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
    return exitCodes.cannotRun;
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

async function submitFile(client: ApiClient, args: SubmitArguments, output: CliOutput): Promise<ExitCode> {
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
    return clean ? exitCodes.ok : exitCodes.refused;
  }
  if (answer.status === 201) {
    const created = expectShape(answer, bulkChangeSchema, what);
    output.stdout.write(createdReport(created, answer.headers['idempotent-replayed'] === 'true'));
    return args.wait ? waitForEnd(client, created.id, output) : exitCodes.ok;
  }
  const error = apiError(answer.body);
  if (answer.status >= 400 && answer.status < 500 && error) {
    output.stdout.write(refusalReport(answer.status, error));
    return exitCodes.refused;
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
