import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';
import type { z } from 'zod';
import { type ApiClient, createApiClient } from './api-client.ts';
import { connectionFlags, resolveConnection } from './api-target.ts';
import { CliError, RefusedError } from './cli-error.ts';
import type { CliOutput } from './cli-output.ts';
import { type ExitCode, exitCodes } from './exit-codes.ts';

/** Checks the flags and positionals of a command; `url` and `key` are always among the flags. */
type ArgumentsSchema = z.ZodType<{ url?: string; key?: string }, unknown>;

/**
 * A command that calls the API (status, list, results, cancel, retry, watch): its `--help`, its flags
 * (beside `--url`, `--key`, `--help`), a schema that turns them into its arguments, and what it does.
 */
export interface ApiCommand<S extends ArgumentsSchema> {
  name: string;
  usage: string;
  flags: ParseArgsOptionsConfig;
  /** Receives the flags by name and `positionals`; every problem is reported at once. */
  schema: S;
  run(client: ApiClient, args: z.output<S>, output: CliOutput): Promise<ExitCode>;
}

/** A command as `bulkchange` runs it: by name, with its arguments; returns its exit code. */
export interface RunnableCommand {
  name: string;
  run(argv: string[], output: CliOutput): Promise<ExitCode>;
}

export const apiCommand = <S extends ArgumentsSchema>(command: ApiCommand<S>): RunnableCommand => ({
  name: command.name,
  run: (argv, output) => runApiCommand(command, argv, output),
});

/** Runs `command` with `argv` and returns its exit code; problems are printed, never thrown. */
async function runApiCommand<S extends ArgumentsSchema>(
  command: ApiCommand<S>,
  argv: string[],
  output: CliOutput,
): Promise<ExitCode> {
  const seeHelp = `Run "bulkchange ${command.name} --help" for the options.`;
  try {
    const { values, positionals } = readFlags(command, argv, seeHelp);
    if (values.help) {
      output.stdout.write(command.usage);
      return exitCodes.ok;
    }
    const parsed = command.schema.safeParse({ ...values, positionals });
    if (!parsed.success) {
      throw new CliError(`${parsed.error.issues.map((issue) => issue.message).join('\n')}\n${seeHelp}`);
    }
    const connection = resolveConnection(parsed.data);
    const client = createApiClient(connection.baseUrl, connection.apiKey);
    try {
      return await command.run(client, parsed.data, output);
    } finally {
      await client.close();
    }
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    output.stderr.write(`${error.message}\n`);
    return error instanceof RefusedError ? exitCodes.refused : exitCodes.cannotRun;
  }
}

function readFlags(command: ApiCommand<ArgumentsSchema>, argv: string[], seeHelp: string) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      options: { ...command.flags, ...connectionFlags, help: { type: 'boolean', short: 'h' } },
    });
  } catch (error) {
    throw new CliError(`${(error as Error).message}\n${seeHelp}`);
  }
}
