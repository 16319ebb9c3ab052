import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { type ApiClient, expectAnswer } from './api-client.ts';
import { apiCommand } from './api-command.ts';
import { connectionHelp, connectionSchema, resolveAccountId } from './api-target.ts';
import type { CliOutput } from './cli-output.ts';
import { type ExitCode, exitCodes, exitCodesHelp } from './exit-codes.ts';
import { capped, textTable } from './text-table.ts';

const reconciliationSchema = z.object({
  id: z.string(),
  carrierAccountId: z.string(),
  status: z.string(),
  createdAt: z.string(),
  completedAt: z.string().nullable(),
  counts: z
    .object({
      carrierLines: z.number(),
      inventoryLines: z.number(),
      billingServices: z.number().nullable(),
      drifts: z.number(),
    })
    .nullable(),
  error: z.string().nullable(),
});
type ReconciliationAnswer = z.infer<typeof reconciliationSchema>;

const driftSchema = z.object({
  id: z.string(),
  kind: z.string(),
  field: z.string(),
  iccid: z.string().nullable(),
  carrier: z.string().nullable(),
  ours: z.string().nullable(),
  billing: z.string().nullable(),
});
const driftsSchema = z.object({ items: z.array(driftSchema), nextCursor: z.string().nullable() });

/** Drifts printed in a report; the CSV (`--csv`, or the API) has them all. */
const DRIFTS_PRINTED = 50;
/** How often `--wait` reads the run while it is queued or running. */
const POLL_MS = 500;

const ended = (run: ReconciliationAnswer) => run.status === 'completed' || run.status === 'failed';

async function getRun(client: ApiClient, id: string): Promise<ReconciliationAnswer> {
  const path = `/api/v1/reconciliations/${encodeURIComponent(id)}`;
  return expectAnswer(await client.get(path), 200, reconciliationSchema, `GET ${path}`);
}

/** Prints a run: its counts, its drifts as a table (the first of them); exit 3 when it failed. */
async function report(client: ApiClient, run: ReconciliationAnswer, output: CliOutput): Promise<ExitCode> {
  const lines = [`Reconciliation ${run.id}: ${run.status}`];
  if (run.counts) {
    const billing =
      run.counts.billingServices === null
        ? 'no billing connected'
        : `${run.counts.billingServices} active billing services`;
    lines.push(
      `Lines at the carrier: ${run.counts.carrierLines}, in the inventory: ${run.counts.inventoryLines}, ${billing}`,
      `Drifts: ${run.counts.drifts}`,
    );
  }
  if (run.error) lines.push(`Failed: ${run.error}`);
  output.stdout.write(`${lines.join('\n')}\n`);
  if (run.status === 'failed') return exitCodes.unsuccessful;
  if (run.status !== 'completed' || !run.counts?.drifts) return exitCodes.ok;
  const path = `/api/v1/reconciliations/${encodeURIComponent(run.id)}/drifts?limit=${DRIFTS_PRINTED}`;
  const drifts = expectAnswer(await client.get(path), 200, driftsSchema, `GET ${path}`);
  const { shown } = capped(
    drifts.items.map((drift) => [
      drift.id,
      drift.kind,
      drift.iccid ?? '-',
      drift.field,
      drift.carrier ?? '-',
      drift.ours ?? '-',
      drift.billing ?? '-',
    ]),
    DRIFTS_PRINTED,
  );
  output.stdout.write(
    `${textTable([['ID', 'DRIFT', 'ICCID', 'FIELD', 'CARRIER', 'OURS', 'BILLING'], ...shown])}\n`,
  );
  if (run.counts.drifts > shown.length)
    output.stdout.write(
      `… and ${run.counts.drifts - shown.length} more: bulkchange reconciliation ${run.id} --csv\n`,
    );
  return exitCodes.ok;
}

const reconcileSchema = connectionSchema
  .extend({
    positionals: z
      .array(z.string().min(1))
      .refine((positionals) => positionals.length === 1, {
        message: 'Name one carrier account: bulkchange reconcile <account>',
      })
      .transform((positionals) => positionals[0]),
    wait: z.boolean().default(false),
  })
  .transform(({ positionals, ...rest }) => ({ ...rest, account: positionals }));

export const reconcileCommand = apiCommand({
  name: 'reconcile',
  usage: `Usage: bulkchange reconcile <account> [--wait]

Starts a three-way reconciliation of a carrier account (its id or its name): the carrier's lines, the
inventory and billing's services, compared line by line (docs/guardrails.md). Prints the
reconciliation's id; with --wait, waits for it and prints its report (bulkchange reconciliation <id>).

  --wait                   wait for the report (exit 3 if the reconciliation failed)
  ${connectionHelp}

${exitCodesHelp}`,
  flags: { wait: { type: 'boolean' } },
  schema: reconcileSchema,
  async run(client, args, output) {
    const accountId = await resolveAccountId(client, args.account);
    const path = `/api/v1/carrier-accounts/${encodeURIComponent(accountId)}/reconciliations`;
    let run = expectAnswer(await client.post(path), 202, reconciliationSchema, `POST ${path}`);
    if (!args.wait) {
      output.stdout.write(`Reconciliation ${run.id} queued. See it: bulkchange reconciliation ${run.id}\n`);
      return exitCodes.ok;
    }
    while (!ended(run)) {
      await sleep(POLL_MS);
      run = await getRun(client, run.id);
    }
    return report(client, run, output);
  },
});

const reconciliationArgs = connectionSchema
  .extend({
    positionals: z
      .array(z.string().min(1))
      .refine((positionals) => positionals.length === 1, {
        message: 'Name one reconciliation: bulkchange reconciliation <id>',
      })
      .transform((positionals) => positionals[0]),
    json: z.boolean().default(false),
    csv: z.boolean().default(false),
  })
  .transform(({ positionals, ...rest }) => ({ ...rest, id: positionals }));

export const reconciliationCommand = apiCommand({
  name: 'reconciliation',
  usage: `Usage: bulkchange reconciliation <id> [--json | --csv]

Shows a reconciliation: its status, what it read, and its drifts (line, field, carrier / ours /
billing), the first ${DRIFTS_PRINTED} as a table.

  --json                   the reconciliation as the API answers it (GET /api/v1/reconciliations/{id})
  --csv                    every drift as CSV (GET /api/v1/reconciliations/{id}/drifts.csv)
  ${connectionHelp}

${exitCodesHelp}`,
  flags: { json: { type: 'boolean' }, csv: { type: 'boolean' } },
  schema: reconciliationArgs,
  async run(client, args, output) {
    if (args.csv) {
      const body = await client.stream(
        `/api/v1/reconciliations/${encodeURIComponent(args.id)}/drifts.csv`,
        'text/csv',
      );
      for await (const chunk of body) output.stdout.write(chunk);
      return exitCodes.ok;
    }
    const run = await getRun(client, args.id);
    if (args.json) {
      output.stdout.write(`${JSON.stringify(run, null, 2)}\n`);
      return exitCodes.ok;
    }
    return report(client, run, output);
  },
});
