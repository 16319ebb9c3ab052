import { z } from 'zod';
import { changeTypes } from '../core/change-types.ts';
import { bulkStatuses } from '../core/statuses.ts';
import { pageOf } from '../shared/answers.ts';
import { bulkChangeSchema } from './api-answers.ts';
import { expectAnswer } from './api-client.ts';
import { apiCommand } from './api-command.ts';
import { connectionHelp, connectionSchema, resolveAccountId } from './api-target.ts';
import { download } from './download.ts';
import { exitCodes, exitCodesHelp } from './exit-codes.ts';
import { getBulkChange } from './follow-bulk-change.ts';
import { listReport, statusReport } from './reports.ts';

/** The one bulk change id a command names. */
export const oneId = (command: string) =>
  z
    .array(z.string().min(1))
    .refine((positionals) => positionals.length === 1, {
      message: `Name one bulk change: bulkchange ${command} <id>`,
    })
    .transform((positionals) => positionals[0]);

const statusSchema = connectionSchema
  .extend({ positionals: oneId('status'), json: z.boolean().default(false) })
  .transform(({ positionals, ...rest }) => ({ ...rest, id: positionals }));

export const statusCommand = apiCommand({
  name: 'status',
  usage: `Usage: bulkchange status <id> [--json]

Shows one bulk change: its status, its rows' counts, when it was created, started and finished, and
the bulk changes it is linked to (the retry of, the follow-up of).

  --json                   the bulk change as the API answers it (GET /api/v1/bulk-changes/{id})
  ${connectionHelp}

${exitCodesHelp}`,
  flags: { json: { type: 'boolean' } },
  schema: statusSchema,
  async run(client, args, output) {
    const change = await getBulkChange(client, args.id);
    if (args.json) {
      output.stdout.write(`${JSON.stringify(change, null, 2)}\n`);
      return exitCodes.ok;
    }
    const linked = change.linkedId ? await getBulkChange(client, change.linkedId) : undefined;
    output.stdout.write(statusReport(change, linked));
    return exitCodes.ok;
  },
});

const listSchema = connectionSchema
  .extend({
    positionals: z.array(z.string()).max(0, { error: 'list takes no arguments, only options' }),
    status: z.enum(bulkStatuses, { error: `--status must be one of ${bulkStatuses.join(', ')}` }).optional(),
    type: z.enum(changeTypes, { error: `--type must be one of ${changeTypes.join(', ')}` }).optional(),
    account: z.string().min(1).optional(),
    limit: z.coerce
      .number({ error: '--limit must be a number from 1 to 1000' })
      .int({ error: '--limit must be a number from 1 to 1000' })
      .min(1, { error: '--limit must be a number from 1 to 1000' })
      .max(1000, { error: '--limit must be a number from 1 to 1000' })
      .default(20),
    cursor: z.string().min(1).optional(),
    json: z.boolean().default(false),
  })
  .transform(({ positionals: _none, ...rest }) => rest);

export const listCommand = apiCommand({
  name: 'list',
  usage: `Usage: bulkchange list [--status S] [--type T] [--account ID|NAME] [--limit N] [--json]

Lists bulk changes, newest first: id, created, type, carrier, status, rows, succeeded, failed.

  --status S               only those in status S: ${bulkStatuses.join(', ')}
  --type T                 only those of change type T
  --account ID|NAME        only those on this carrier account (its id or its name)
  --limit N                at most N (1–1000, default 20); when there are more, stderr says how to
                           see the next ones (--cursor)
  --cursor C               the next page, from where the previous one ended
  --json                   the page as the API answers it ({items, nextCursor})
  ${connectionHelp}

${exitCodesHelp}`,
  flags: {
    status: { type: 'string' },
    type: { type: 'string' },
    account: { type: 'string' },
    limit: { type: 'string' },
    cursor: { type: 'string' },
    json: { type: 'boolean' },
  },
  schema: listSchema,
  async run(client, args, output) {
    const query = new URLSearchParams({ limit: String(args.limit) });
    if (args.status) query.set('status', args.status);
    if (args.type) query.set('changeType', args.type);
    if (args.account) query.set('carrierAccountId', await resolveAccountId(client, args.account));
    if (args.cursor) query.set('cursor', args.cursor);
    const path = `/api/v1/bulk-changes?${query}`;
    const page = expectAnswer(await client.get(path), 200, pageOf(bulkChangeSchema), `GET ${path}`);
    if (args.json) {
      output.stdout.write(`${JSON.stringify(page, null, 2)}\n`);
      return exitCodes.ok;
    }
    output.stdout.write(listReport(page.items));
    if (page.nextCursor) output.stderr.write(`More: add --cursor ${page.nextCursor}\n`);
    return exitCodes.ok;
  },
});

const resultsSchema = connectionSchema
  .extend({ positionals: oneId('results'), out: z.string().min(1).optional() })
  .transform(({ positionals, ...rest }) => ({ ...rest, id: positionals }));

export const resultsCommand = apiCommand({
  name: 'results',
  usage: `Usage: bulkchange results <id> [--out FILE]

Writes the results CSV of a bulk change (one line per row: identifiers, status, error, result), as
GET /api/v1/bulk-changes/{id}/results.csv serves it, streamed: to stdout, or to FILE.

  --out FILE               write it to FILE (replaced if it exists) instead of stdout
  ${connectionHelp}

${exitCodesHelp}`,
  flags: { out: { type: 'string' } },
  schema: resultsSchema,
  run: (client, args, output) =>
    download(
      client,
      {
        path: `/api/v1/bulk-changes/${encodeURIComponent(args.id)}/results.csv`,
        accept: 'text/csv',
        out: args.out,
        what: `the results of bulk change ${args.id}`,
      },
      output,
    ),
});
