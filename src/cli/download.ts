import { createWriteStream, rmSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { ApiClient } from './api-client.ts';
import { CliError } from './cli-error.ts';
import type { CliOutput } from './cli-output.ts';
import { type ExitCode, exitCodes } from './exit-codes.ts';

/**
 * A file the API serves (results, an export), streamed to `out` or to stdout, never held whole; `what`
 * names it in the messages ("the results of bulk change X").
 */
export async function download(
  client: ApiClient,
  request: { path: string; accept: string; out?: string; what: string },
  output: CliOutput,
): Promise<ExitCode> {
  const body = await client.stream(request.path, request.accept);
  try {
    await (request.out
      ? pipeline(body, createWriteStream(request.out))
      : pipeline(body, output.stdout, { end: false }));
  } catch (error) {
    // A reader that has seen enough (`| head`) is no failure.
    if (!request.out && (error as NodeJS.ErrnoException).code === 'EPIPE') return exitCodes.ok;
    // Half a file is worse than none: it would pass for the whole.
    if (request.out) rmSync(request.out, { force: true });
    throw new CliError(`Writing ${request.what} failed: ${(error as Error).message}`);
  }
  if (request.out) output.stderr.write(`Wrote ${request.what} to ${request.out}\n`);
  return exitCodes.ok;
}
