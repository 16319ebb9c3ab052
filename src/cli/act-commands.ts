import { z } from 'zod';
import { bulkChangeSchema, undoCreatedSchema, undoDryRunSchema } from './api-answers.ts';
import { apiError, expectAnswer } from './api-client.ts';
import { apiCommand } from './api-command.ts';
import { connectionHelp, connectionSchema } from './api-target.ts';
import { exitCodes, exitCodesHelp } from './exit-codes.ts';
import { oneId } from './inspect-commands.ts';
import { createdReport, dryRunReport, irreversibleReport, refusalReport } from './reports.ts';
import { waitForEnd } from './wait-for-end.ts';

const idAndWait = (command: string) =>
  connectionSchema
    .extend({ positionals: oneId(command), wait: z.boolean().default(false) })
    .transform(({ positionals, ...rest }) => ({ ...rest, id: positionals }));

const cancelSchema = idAndWait('cancel');

export const cancelCommand = apiCommand({
  name: 'cancel',
  usage: `Usage: bulkchange cancel <id> [--wait]

Cancels a bulk change: rows not yet sent to the carrier are cancelled at once; rows already with it
finish. A bulk change that has already finished is refused (exit 1).

  --wait                   then follow it until it has ended (exit 0 only if every row succeeded,
                           so a cancel that cancelled rows exits 3)
  ${connectionHelp}

${exitCodesHelp}`,
  flags: { wait: { type: 'boolean' } },
  schema: cancelSchema,
  async run(client, args, output) {
    const path = `/api/v1/bulk-changes/${encodeURIComponent(args.id)}/cancel`;
    const change = expectAnswer(await client.post(path), 200, bulkChangeSchema, `POST ${path}`);
    output.stdout.write(`Cancel requested. ${createdReport(change, false)}`);
    return args.wait ? waitForEnd(client, change.id, output) : exitCodes.ok;
  },
});

const retrySchema = idAndWait('retry');

export const retryCommand = apiCommand({
  name: 'retry',
  usage: `Usage: bulkchange retry <id> [--wait]

Retries the failed rows of a finished bulk change as a new bulk change, and prints its id alone on
stdout (NEW=$(bulkchange retry <id>)); what it holds, and rows that cannot be retried now, on stderr.
A bulk change still running, without failed rows, or already retried is refused (exit 1).

  --wait                   then follow the new bulk change to its end, as submit --wait does (its
                           reports follow the id on stdout)
  ${connectionHelp}

${exitCodesHelp}`,
  flags: { wait: { type: 'boolean' } },
  schema: retrySchema,
  async run(client, args, output) {
    const path = `/api/v1/bulk-changes/${encodeURIComponent(args.id)}/retry`;
    const created = expectAnswer(await client.post(path), 201, bulkChangeSchema, `POST ${path}`);
    output.stdout.write(`${created.id}\n`);
    output.stderr.write(createdReport(created, false));
    return args.wait ? waitForEnd(client, created.id, output) : exitCodes.ok;
  },
});

const undoSchema = connectionSchema
  .extend({
    positionals: oneId('undo'),
    wait: z.boolean().default(false),
    'dry-run': z.boolean().default(false),
  })
  .refine((args) => !(args['dry-run'] && args.wait), {
    message: '--wait has nothing to follow with --dry-run',
  })
  .transform(({ positionals, 'dry-run': dryRun, ...rest }) => ({ ...rest, dryRun, id: positionals }));

export const undoCommand = apiCommand({
  name: 'undo',
  usage: `Usage: bulkchange undo <id> [--dry-run] [--wait]

Undoes a finished bulk change: creates its reverse, a new bulk change of the same type that sets back
what each succeeded row changed on its line (plan, suspend/restore, customer, …), and prints its id
alone on stdout (UNDO=$(bulkchange undo <id>)); on stderr, the rows it cannot reverse, each with its
reason (DEACTIVATION_FINAL, ROW_NOT_SUCCEEDED, …; docs/guardrails.md). A bulk change still running,
already undone, or with no row to reverse is refused (exit 1).

  --dry-run                check the reverse and report what it would do, and what it leaves alone;
                           creates nothing (exit 1 if some reverse rows would fail)
  --wait                   then follow the undo to its end, as submit --wait does
  ${connectionHelp}

${exitCodesHelp}`,
  flags: { wait: { type: 'boolean' }, 'dry-run': { type: 'boolean' } },
  schema: undoSchema,
  async run(client, args, output) {
    const path = `/api/v1/bulk-changes/${encodeURIComponent(args.id)}/undo${args.dryRun ? '?dryRun=true' : ''}`;
    const answer = await client.post(path);
    const error = apiError(answer.body);
    if (answer.status >= 400 && answer.status < 500 && answer.status !== 401 && error) {
      // The details are the point of a refusal here: why no row can be reversed.
      output.stderr.write(refusalReport(answer.status, error));
      return exitCodes.refused;
    }
    if (args.dryRun) {
      const report = expectAnswer(answer, 200, undoDryRunSchema, `POST ${path}`);
      output.stdout.write(dryRunReport(report) + irreversibleReport(report.irreversible));
      return report.summary.wouldFail === 0 ? exitCodes.ok : exitCodes.refused;
    }
    const created = expectAnswer(answer, 201, undoCreatedSchema, `POST ${path}`);
    output.stdout.write(`${created.id}\n`);
    output.stderr.write(createdReport(created, false) + irreversibleReport(created.irreversible));
    return args.wait ? waitForEnd(client, created.id, output) : exitCodes.ok;
  },
});

/**
 * `pause` and `resume`: one POST that answers with the bulk change (docs/guardrails.md). A change that
 * has ended (pause) or is not paused (resume) is refused (exit 1).
 */
const pauseOrResume = (name: 'pause' | 'resume', usage: string) =>
  apiCommand({
    name,
    usage: `Usage: bulkchange ${name} <id> [--wait]

${usage}

  --wait                   then follow it until it has ended
  ${connectionHelp}

${exitCodesHelp}`,
    flags: { wait: { type: 'boolean' } },
    schema: idAndWait(name),
    async run(client, args, output) {
      const path = `/api/v1/bulk-changes/${encodeURIComponent(args.id)}/${name}`;
      const change = expectAnswer(await client.post(path), 200, bulkChangeSchema, `POST ${path}`);
      output.stdout.write(createdReport(change, false));
      return args.wait ? waitForEnd(client, change.id, output) : exitCodes.ok;
    },
  });

export const pauseCommand = pauseOrResume(
  'pause',
  `Pauses a running bulk change: nothing new is sent to the carrier until it is resumed; rows already
with the carrier are still confirmed. A bulk change that has ended is refused (exit 1).`,
);

export const resumeCommand = pauseOrResume(
  'resume',
  `Resumes a paused bulk change where it stopped: the rows not yet sent go out, none twice. A bulk
change that is not paused is refused (exit 1).`,
);

/**
 * `approve` and `reject`: a second person's decision on a change awaiting approval, with a note
 * (docs/guardrails.md). The creator's own key, a key below `approver`, or a change not awaiting
 * approval is refused (exit 1).
 */
const approveOrReject = (name: 'approve' | 'reject', usage: string) =>
  apiCommand({
    name,
    usage: `Usage: bulkchange ${name} <id> ${name === 'reject' ? '--note TEXT' : '[--note TEXT]'} [--wait]

${usage}

  --note TEXT              why, kept in the audit log and on the bulk change${name === 'reject' ? ' (required)' : ''}
  --wait                   then follow it until it has ended
  ${connectionHelp}

${exitCodesHelp}`,
    flags: { note: { type: 'string' }, wait: { type: 'boolean' } },
    schema: connectionSchema
      .extend({
        positionals: oneId(name),
        note:
          name === 'reject'
            ? z
                .string({ error: '--note says why it is rejected' })
                .trim()
                .min(1, '--note says why it is rejected')
            : z.string().trim().optional(),
        wait: z.boolean().default(false),
      })
      .transform(({ positionals, ...rest }) => ({ ...rest, id: positionals })),
    async run(client, args, output) {
      const path = `/api/v1/bulk-changes/${encodeURIComponent(args.id)}/${name}`;
      const answer = await client.postJson(path, args.note ? { note: args.note } : {});
      const change = expectAnswer(answer, 200, bulkChangeSchema, `POST ${path}`);
      output.stdout.write(createdReport(change, false));
      return args.wait ? waitForEnd(client, change.id, output) : exitCodes.ok;
    },
  });

export const approveCommand = approveOrReject(
  'approve',
  `Approves a bulk change awaiting approval (the tenant's approval policy held it): it goes ahead.
Needs a key with the approver (or admin) role, and not the key that created it.`,
);

export const rejectCommand = approveOrReject(
  'reject',
  `Rejects a bulk change awaiting approval: it is cancelled, nothing is sent, and its lines are free
again. Needs a key with the approver (or admin) role, and not the key that created it.`,
);

const watchSchema = connectionSchema
  .extend({ positionals: oneId('watch') })
  .transform(({ positionals, ...rest }) => ({ ...rest, id: positionals }));

export const watchCommand = apiCommand({
  name: 'watch',
  usage: `Usage: bulkchange watch <id>

Follows a bulk change live (its event stream; progress on stderr) until it has ended, then each
follow-up it started (a new service's customer assignment), and reports each end with its failed rows.
A bulk change that has already ended is reported at once.

  ${connectionHelp}

${exitCodesHelp}`,
  flags: {},
  schema: watchSchema,
  run: (client, args, output) => waitForEnd(client, args.id, output),
});
