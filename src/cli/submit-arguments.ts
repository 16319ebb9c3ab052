import { parseArgs } from 'node:util';
import { z } from 'zod';
import { changeTypes } from '../core/change-types.ts';
import { connectionFlags, connectionHelp, connectionSchema } from './api-target.ts';
import { CliError } from './cli-error.ts';
import { exitCodesHelp } from './exit-codes.ts';

export const submitUsage = `Usage: bulkchange submit <file.csv|file.xlsx> --account ID|NAME --type TYPE [options]

Uploads a CSV or an XLSX workbook (its first sheet; streamed, header row first) as a bulk change.

  --account ID|NAME        carrier account id, or its name
  --type TYPE              change type: ${changeTypes.join(', ')}
  --dry-run                check every row and report what would happen; creates nothing
  --wait                   follow the bulk change to its end (progress on stderr), and any follow-up
                           it starts (a new service's customer assignment), then list failed rows
  --accept-valid-rows      create the bulk change from the valid rows even if some rows are invalid
  --option NAME=VALUE      a field for every row that does not set it (repeatable; e.g. targetStatus=active)
  --schedule TIME          start at an ISO-8601 time (e.g. 2030-01-01T06:00:00Z) instead of now
  --idempotency-key KEY    sending the same file with the same key again returns the first bulk change
  ${connectionHelp}

${exitCodesHelp}`;

const seeHelp = 'Run "bulkchange submit --help" for the options.';

/** Query parameters the CLI sets itself from its own flags. */
const reservedOptions = new Set([
  'carrierAccountId',
  'changeType',
  'dryRun',
  'acceptValidRows',
  'scheduledFor',
]);

/** CSV columns are snake_case (API §3); the query wants the camelCase field name. */
const camelCase = (name: string) => name.replace(/_([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());

const optionSchema = z
  .string()
  .regex(/^[A-Za-z][\w]*=/, '--option takes NAME=VALUE')
  .transform((text) => {
    const equals = text.indexOf('=');
    return [camelCase(text.slice(0, equals)), text.slice(equals + 1)] as const;
  })
  .refine(([name]) => !reservedOptions.has(name), {
    message: 'Set that with --account, --type, --dry-run, --accept-valid-rows or --schedule',
  });

const submitSchema = z
  .object({
    file: z.string({ error: 'Name the CSV file to submit' }).min(1),
    account: z.string({ error: '--account is required' }).min(1),
    type: z.enum(changeTypes, { error: `--type must be one of ${changeTypes.join(', ')}` }),
    dryRun: z.boolean().default(false),
    wait: z.boolean().default(false),
    acceptValidRows: z.boolean().default(false),
    options: z
      .array(optionSchema)
      .default([])
      .refine((options) => new Set(options.map(([name]) => name)).size === options.length, {
        message: 'Give each --option name once',
      }),
    schedule: z.iso.datetime({ offset: true, error: '--schedule must be an ISO-8601 time' }).optional(),
    idempotencyKey: z.string().min(1).max(200).optional(),
  })
  .extend(connectionSchema.shape)
  .refine((input) => !(input.dryRun && input.wait), {
    message: '--wait has nothing to follow with --dry-run',
  });

export type SubmitArguments = z.infer<typeof submitSchema>;

/** The submit command's arguments, or a CliError naming every problem; `help` when asked for. */
export function parseSubmitArguments(argv: string[]): SubmitArguments | 'help' {
  const { values, positionals } = readFlags(argv);
  if (values.help) return 'help';
  if (positionals.length > 1) {
    throw new CliError(`Submit one file at a time (got ${positionals.join(', ')})\n${seeHelp}`);
  }
  const parsed = submitSchema.safeParse({
    file: positionals[0],
    account: values.account,
    type: values.type,
    dryRun: values['dry-run'],
    wait: values.wait,
    acceptValidRows: values['accept-valid-rows'],
    options: values.option,
    schedule: values.schedule,
    idempotencyKey: values['idempotency-key'],
    url: values.url,
    key: values.key,
  });
  if (!parsed.success) {
    throw new CliError(`${parsed.error.issues.map((issue) => issue.message).join('\n')}\n${seeHelp}`);
  }
  return parsed.data;
}

function readFlags(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        account: { type: 'string' },
        type: { type: 'string' },
        'dry-run': { type: 'boolean' },
        wait: { type: 'boolean' },
        'accept-valid-rows': { type: 'boolean' },
        option: { type: 'string', multiple: true },
        schedule: { type: 'string' },
        'idempotency-key': { type: 'string' },
        ...connectionFlags,
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new CliError(`${(error as Error).message}\n${seeHelp}`);
  }
}
