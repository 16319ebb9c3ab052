import { z } from 'zod';
import { generatedName } from '../../bulk-changes/bulk-change-name.ts';
import type { IrreversibleRow } from '../../bulk-changes/undo-plan.ts';
import type { DryRunReport } from '../../bulk-changes/views.ts';
import { AppError, type ErrorDetail, errorCodes } from '../../core/errors.ts';
import { type PortalUser, requirePortalRole } from '../auth.ts';
import { count, csvColumn, duration, label, time } from '../components/format.ts';
import { csrfField, problemList } from '../components/forms.ts';
import { type Column, table } from '../components/table.ts';
import type { PortalApp, PortalDeps } from '../deps.ts';
import { typedConfirmation } from '../destructive.ts';
import { href, html, type SafeHtml } from '../html.ts';
import { page, sendHtml } from '../layout.ts';
import { type PendingPreview, serviceInput } from '../preview-stash.ts';

/** Rows listed per outcome; the counts cover the whole file. */
const FAILING_SHOWN = 200;
const SUCCEEDING_SHOWN = 100;

type ReportRow = DryRunReport['rows'][number];

const tokenParams = z.object({ token: z.string().regex(/^[0-9a-f]{32}$/) });

const fieldsOfRow = (preview: PendingPreview, row: number): Record<string, unknown> => {
  const rows = preview.input.rows;
  return (rows[row - 1]?.row === row ? rows[row - 1] : rows.find((input) => input.row === row))?.fields ?? {};
};

/** The phrase to type, when the change is destructive and large enough to need one. */
function confirmationFor(preview: PendingPreview): string | undefined {
  const targets = new Set<string>();
  for (const row of preview.report.rows) {
    if (row.outcome !== 'would_succeed') continue;
    const target = fieldsOfRow(preview, row.row).targetStatus ?? preview.input.options.targetStatus;
    if (typeof target === 'string') targets.add(target);
  }
  return typedConfirmation(preview.input.changeType, targets, preview.report.summary.wouldSucceed);
}

function rowsTable(preview: PendingPreview, rows: ReportRow[], caption: string, failing: boolean): SafeHtml {
  const cellColumns: Column<ReportRow>[] = preview.columns.map((field) => ({
    header: csvColumn(field),
    key: field,
    cell: (row) => {
      const value = fieldsOfRow(preview, row.row)[field];
      const text = value === undefined ? '' : String(value);
      return row.field === field ? html`<mark>${text || '(empty)'}</mark>` : text;
    },
  }));
  const problem: Column<ReportRow> = {
    header: 'Why it will fail',
    cell: (row) => html`<strong>${row.code}</strong> ${row.message}`,
  };
  const change: Column<ReportRow> = {
    header: 'Current → target',
    key: 'change',
    cell: (row) =>
      row.target === undefined
        ? ''
        : html`<span class="change-arrow">${label(row.current ?? '—')} → ${label(row.target)}</span>`,
  };
  const waits: Column<ReportRow> = {
    header: 'Waits until',
    key: 'notBefore',
    cell: (row) =>
      row.notBefore === undefined
        ? ''
        : html`${time(row.notBefore)} ${row.waitsFor === 'line_quota' ? row.message : '(its effective date)'}`,
  };
  const leftOut: Column<ReportRow> = {
    header: 'Why left out',
    cell: (row) => (row.code === errorCodes.NOT_EDITED ? 'Not edited' : 'Already in that state'),
  };
  // An edited round-trip row whose line someone changed since the export: sent, but said.
  const note: Column<ReportRow> = { header: 'Note', cell: (row) => row.note ?? '' };
  const hasChange = rows.some((row) => row.target !== undefined);
  const hasWait = rows.some((row) => row.notBefore !== undefined);
  const hasNote = rows.some((row) => row.note !== undefined);
  const skipped = rows.some((row) => row.outcome === 'would_skip');
  return table({
    caption,
    rows,
    empty: failing ? 'No row will fail.' : 'No row will succeed.',
    columns: [
      { header: 'Row', cell: (row) => row.row, className: 'num' },
      ...cellColumns,
      ...(hasChange ? [change] : []),
      ...(hasWait ? [waits] : []),
      ...(hasNote ? [note] : []),
      ...(skipped ? [leftOut] : []),
      ...(failing ? [problem] : []),
    ],
    // The cell the problem is about is marked for sight (colour and <mark>) and for assistive technology.
    cellAttributes: (row, column) =>
      failing && row.field !== undefined && column.key === row.field
        ? html` class="cell-invalid" aria-invalid="true"`
        : null,
  });
}

/** An undo's rows of the original that it leaves alone, each with its reason (docs/guardrails.md#undo). */
function irreversibleSection(undoOf: string, rows: IrreversibleRow[]): SafeHtml {
  return html`<section aria-labelledby="irreversible" data-irreversible><h2 id="irreversible">Rows of <a href="/portal/bulk-changes/${undoOf}">${undoOf}</a> not reversed (${count(rows.length)})</h2>
${table({
  caption: 'Rows the undo leaves as they are, and why',
  rows: rows.slice(0, FAILING_SHOWN),
  empty: 'Every row that changed its line is reversed.',
  columns: [
    { header: 'Row', cell: (row) => row.row, className: 'num' },
    { header: 'Line', cell: (row) => html`<code>${row.iccid ?? row.msisdn ?? row.eid}</code>` },
    { header: 'Why not', cell: (row) => html`<strong>${row.reason}</strong> ${row.message}` },
  ],
})}
${rows.length > FAILING_SHOWN && html`<p class="muted">The first ${FAILING_SHOWN} are shown.</p>`}
</section>`;
}

/** Rows that wait (their line's quota, their effective date): how many, and when the last may go. */
function waitingText(preview: PendingPreview): SafeHtml | '' {
  const { waitingRows, lastRowNotBefore } = preview.report.estimate;
  if (waitingRows === 0) return '';
  return html`<span data-preview-waiting>${count(waitingRows)} ${waitingRows === 1 ? 'row waits' : 'rows wait'} (carrier line quota or effective date); the last goes no earlier than ${time(lastRowNotBefore)}.</span>`;
}

/** "About 1 min 40 s to send: 500 requests at 5 per second", from the account's limits. */
function estimateText(preview: PendingPreview): string {
  const { estimate } = preview.report;
  if (estimate.requests === 0) return 'Nothing to send to the carrier';
  const requests = `${count(estimate.requests)} ${estimate.requests === 1 ? 'request' : 'requests'}`;
  const batches = estimate.batchSize > 1 ? ` (up to ${count(estimate.batchSize)} lines each)` : '';
  if (estimate.seconds === null) return `${requests}${batches}; the account sets no request limit`;
  return `At least ${duration(estimate.seconds * 1000)} to send: ${requests}${batches} at ${estimate.requestsPerSecond} per second`;
}

function confirmForm(user: PortalUser, preview: PendingPreview, phrase: string | undefined): SafeHtml {
  const { summary, fileIssues } = preview.report;
  if (fileIssues.length === 0 && summary.wouldSucceed === 0 && summary.wouldSkip > 0) {
    return html`<p>Every row is left out (its line already is what it asks for, or it was not edited): there is nothing to send.</p>
<p><a class="button" href="${href('/portal/bulk-changes/new', { carrierAccountId: preview.input.carrierAccountId, changeType: preview.input.changeType })}">Start over</a></p>`;
  }
  if (fileIssues.length > 0 || summary.wouldSucceed === 0) {
    return html`<p><a class="button" href="${href('/portal/bulk-changes/new', { carrierAccountId: preview.input.carrierAccountId, changeType: preview.input.changeType })}">Fix the file and start over</a></p>`;
  }
  const rowsWord = `${count(summary.wouldSucceed)} ${summary.wouldSucceed === 1 ? 'row' : 'rows'}`;
  const suggested = generatedName(
    { changeType: preview.input.changeType, options: preview.input.options, lines: summary.wouldSucceed },
    preview.accountName,
  );
  return html`<form method="post" action="/portal/bulk-changes/preview/${preview.token}" class="stack confirm">
  ${csrfField(user)}
  <div class="field">
    <label for="bulk-change-name">Name (optional)</label>
    <input id="bulk-change-name" name="name" type="text" maxlength="200" placeholder="${suggested}" autocomplete="off">
    <span class="hint">Left empty, it is called "${suggested}".</span>
  </div>
  ${summary.wouldFail > 0 && html`<p>The ${count(summary.wouldFail)} failing rows are left out; only the ${rowsWord} that pass are created.</p>`}
  ${summary.wouldSkip > 0 && html`<p>The ${count(summary.wouldSkip)} lines already in that state or not edited are skipped: nothing is sent for them.</p>`}
  ${
    phrase &&
    html`<div class="field">
    <label for="confirmation">This takes lines out of service. Type <strong><code>${phrase}</code></strong> to confirm.</label>
    <input id="confirmation" name="confirmation" type="text" autocomplete="off" spellcheck="false" required data-confirm-phrase="${phrase}">
  </div>`
  }
  <div>
    <button type="submit" class="button button-${phrase ? 'danger' : 'primary'}" data-confirm-submit>${preview.input.scheduledFor ? 'Schedule' : 'Submit'} ${rowsWord}</button>
    ${
      preview.input.undoOf
        ? html`<a href="/portal/bulk-changes/${preview.input.undoOf}">Back to the bulk change</a>`
        : html`<a href="${href('/portal/bulk-changes/new', { carrierAccountId: preview.input.carrierAccountId, changeType: preview.input.changeType })}">Start over</a>`
    }
  </div>
</form>`;
}

function previewPage(
  user: PortalUser,
  preview: PendingPreview,
  problems?: { message: string; details: ErrorDetail[] },
) {
  const { report, input } = preview;
  const failing = report.rows.filter((row) => row.outcome === 'would_fail');
  const succeeding = report.rows.filter((row) => row.outcome === 'would_succeed');
  const skipped = report.rows.filter((row) => row.outcome === 'would_skip');
  const notEdited = skipped.filter((row) => row.code === errorCodes.NOT_EDITED).length;
  const options = Object.entries(input.options);
  // The summary and Confirm come first, so both are on screen without scrolling; the rows follow.
  return page({
    title: 'Preview',
    user,
    section: 'new',
    body: html`<h1>Preview: ${input.undoOf ? 'undo, ' : ''}${label(input.changeType)} on ${preview.accountName}</h1>
${problems && problemList(problems.message, problems.details)}
<p class="summary" data-preview-summary>
  <span class="ok"><strong>${count(report.summary.wouldSucceed)}</strong> will succeed</span>
  <span class="skip"><strong>${count(report.summary.wouldSkip - notEdited)}</strong> already in that state</span>
  ${notEdited > 0 && html`<span class="skip"><strong>${count(notEdited)}</strong> not edited</span>`}
  <span class="bad"><strong>${count(report.summary.wouldFail)}</strong> will fail</span>
  <span>of ${count(report.summary.total)} rows</span>
</p>
<dl class="facts">
  <div><dt>Lines from</dt><dd>${preview.source}</dd></div>
  <div><dt>Set for every row</dt><dd>${options.length === 0 ? 'nothing' : options.map(([name, value], index) => html`${index > 0 && ', '}${label(name)} = <code>${String(value)}</code>`)}</dd></div>
  <div><dt>Runs</dt><dd>${input.scheduledFor ? time(input.scheduledFor) : 'as soon as it is submitted'}</dd></div>
  <div><dt>Estimate</dt><dd data-preview-estimate>${estimateText(preview)} ${waitingText(preview)}</dd></div>
</dl>
${report.fileIssues.length > 0 && problemList('The file has problems; nothing can be submitted until they are fixed.', report.fileIssues)}
<section aria-labelledby="confirm"><h2 id="confirm" class="visually-hidden">Confirm</h2>
${confirmForm(user, preview, confirmationFor(preview))}
</section>
${preview.irreversible && irreversibleSection(input.undoOf ?? '', preview.irreversible)}
<section aria-labelledby="failing"><h2 id="failing">Rows that will fail (${count(failing.length)})</h2>
${rowsTable(preview, failing.slice(0, FAILING_SHOWN), 'Rows that will fail, with the invalid cell marked', true)}
${failing.length > FAILING_SHOWN && html`<p class="muted">The first ${FAILING_SHOWN} are shown.</p>`}
</section>
${
  skipped.length > 0 &&
  html`<section aria-labelledby="skipped"><h2 id="skipped">Skipped: already in that state or not edited (${count(skipped.length)})</h2>
<details><summary>Show them</summary>
${rowsTable(preview, skipped.slice(0, SUCCEEDING_SHOWN), 'Rows skipped because the line already is in the target state, or the row of a file exported for editing was not edited', false)}
${skipped.length > SUCCEEDING_SHOWN && html`<p class="muted">The first ${SUCCEEDING_SHOWN} are shown.</p>`}
</details>
</section>`
}
<section aria-labelledby="succeeding"><h2 id="succeeding">Rows that will succeed (${count(succeeding.length)})</h2>
<details${failing.length === 0 ? html` open` : ''}><summary>Show them</summary>
${rowsTable(preview, succeeding.slice(0, SUCCEEDING_SHOWN), 'Rows that will succeed', false)}
${succeeding.length > SUCCEEDING_SHOWN && html`<p class="muted">The first ${SUCCEEDING_SHOWN} are shown.</p>`}
</details>
</section>`,
  });
}

const expired = () =>
  new AppError(
    'PREVIEW_EXPIRED',
    'This preview has expired or was replaced by a newer one; upload the file again',
  );

export function bulkChangePreviewRoutes(app: PortalApp, deps: PortalDeps): void {
  app.get(
    '/bulk-changes/preview/:token',
    { schema: { hide: true, params: tokenParams } },
    async (request, reply) => {
      const user = requirePortalRole(request, 'operator');
      const preview = deps.previews.get(user.session.id, request.params.token);
      if (!preview) throw expired();
      return sendHtml(reply, previewPage(user, preview));
    },
  );

  app.post(
    '/bulk-changes/preview/:token',
    {
      schema: {
        hide: true,
        params: tokenParams,
        body: z.object({
          _csrf: z.string(),
          confirmation: z.string().max(200).optional(),
          name: z.string().trim().max(200).optional(),
        }),
      },
    },
    async (request, reply) => {
      const user = requirePortalRole(request, 'operator');
      const preview = deps.previews.get(user.session.id, request.params.token);
      if (!preview) throw expired();
      const phrase = confirmationFor(preview);
      if (phrase && request.body.confirmation?.trim() !== phrase) {
        const problems = { message: `Type "${phrase}" exactly to confirm this change.`, details: [] };
        return sendHtml(reply, previewPage(user, preview, problems), 422);
      }
      try {
        const outcome = await deps.bulkChanges.create(user.principal, {
          ...serviceInput(preview.input),
          ...(request.body.name ? { name: request.body.name } : {}),
          dryRun: false,
          acceptValidRows: preview.report.summary.wouldFail > 0,
          // A double submit, or a submit after a lost response, answers with the same bulk change.
          idempotencyKey: `portal-preview-${preview.token}`,
          requestId: request.id,
        });
        if ('dryRun' in outcome) throw new Error('A submission was answered as a dry run');
        deps.previews.drop(user.session.id);
        return reply.redirect(`/portal/bulk-changes/${outcome.created.id}`, 303);
      } catch (error) {
        if (!(error instanceof AppError) || (error.statusCode !== 422 && error.statusCode !== 409))
          throw error;
        const problems = { message: error.message, details: error.details };
        return sendHtml(reply, previewPage(user, preview, problems), error.statusCode);
      }
    },
  );
}
