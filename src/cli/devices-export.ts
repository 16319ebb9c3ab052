import { z } from 'zod';
import { exportFormats } from '../bulk-changes/selection-export.ts';
import { oneValueChangeTypes } from '../bulk-changes/target-state.ts';
import { XLSX_CONTENT_TYPE } from '../bulk-changes/upload-input.ts';
import { normalisedStatuses } from '../core/statuses.ts';
import { apiCommand } from './api-command.ts';
import { connectionHelp, connectionSchema, resolveAccountId } from './api-target.ts';
import { download } from './download.ts';
import { exitCodesHelp } from './exit-codes.ts';

const exportSchema = connectionSchema
  .extend({
    positionals: z
      .array(z.string())
      .refine((positionals) => positionals.length === 1 && positionals[0] === 'export', {
        message: 'devices export is the one devices command: bulkchange devices export --change-type T …',
      }),
    'change-type': z.enum(oneValueChangeTypes, {
      error: `--change-type must be one of ${oneValueChangeTypes.join(', ')}`,
    }),
    account: z.string({ error: '--account is required: a bulk change runs on one carrier account' }).min(1),
    format: z.enum(exportFormats, { error: '--format must be csv or xlsx' }).optional(),
    status: z
      .enum(normalisedStatuses, { error: `--status must be one of ${normalisedStatuses.join(', ')}` })
      .optional(),
    'rate-plan': z.string().min(1).optional(),
    customer: z.string().min(1).optional(),
    iccid: z.string().min(1).optional(),
    msisdn: z.string().min(1).optional(),
    out: z.string().min(1).optional(),
  })
  // Without --format, the file's name says it (lines.xlsx); else CSV.
  .transform(
    ({ positionals: _export, format, 'change-type': changeType, 'rate-plan': ratePlan, ...rest }) => ({
      ...rest,
      changeType,
      ratePlan,
      format: format ?? (/\.xlsx$/i.test(rest.out ?? '') ? ('xlsx' as const) : ('csv' as const)),
    }),
  );

export const devicesCommand = apiCommand({
  name: 'devices',
  usage: `Usage: bulkchange devices export --change-type T --account ID|NAME [--format csv|xlsx] [filters] [--out FILE]

Exports the account's lines for editing (GET /api/v1/devices/export, ADR 0059): the column naming each
line, then for each field of change type T, current_<field> (the line's value now, read-only) beside
<field>, filled in with the same value. Edit the <field> cells, then upload the file unchanged
otherwise: bulkchange submit FILE --account A --type T creates rows only for the edited rows (a
<field> unlike its own current_<field>) whose line does not already have the value, and says how
many it left out; an unedited row never reverts a line changed since the export; nothing edited is
refused (NOTHING_TO_CHANGE). A blank cell keeps the line as it is.

  --change-type T          ${oneValueChangeTypes.join(', ')}
  --account ID|NAME        the carrier account (its id or its name)
  --format csv|xlsx        the file's format; default: xlsx when --out ends in .xlsx, else csv
  --status S               only lines in status S
  --rate-plan P            only lines on carrier rate plan P
  --customer C             only lines of billing customer C
  --iccid I, --msisdn M    only the line with this ICCID or MSISDN
  --out FILE               write it to FILE (replaced if it exists) instead of stdout
  ${connectionHelp}

${exitCodesHelp}`,
  flags: {
    'change-type': { type: 'string' },
    account: { type: 'string' },
    format: { type: 'string' },
    status: { type: 'string' },
    'rate-plan': { type: 'string' },
    customer: { type: 'string' },
    iccid: { type: 'string' },
    msisdn: { type: 'string' },
    out: { type: 'string' },
  },
  schema: exportSchema,
  async run(client, args, output) {
    const query = new URLSearchParams({
      changeType: args.changeType,
      format: args.format,
      carrierAccountId: await resolveAccountId(client, args.account),
    });
    if (args.status) query.set('status', args.status);
    if (args.ratePlan) query.set('carrierRatePlan', args.ratePlan);
    if (args.customer) query.set('billingCustomerId', args.customer);
    if (args.iccid) query.set('iccid', args.iccid);
    if (args.msisdn) query.set('msisdn', args.msisdn);
    return download(
      client,
      {
        path: `/api/v1/devices/export?${query}`,
        accept: args.format === 'xlsx' ? XLSX_CONTENT_TYPE : 'text/csv',
        out: args.out,
        what: `the lines of account ${args.account} for ${args.changeType}`,
      },
      output,
    );
  },
});
