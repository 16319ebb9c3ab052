import { z } from 'zod';
import { actorOf } from '../../audit/actor.ts';
import { streamProgress } from '../../bulk-changes/progress-events.ts';
import { resultsCsv } from '../../bulk-changes/results-csv.ts';
import { resultsXlsx } from '../../bulk-changes/results-xlsx.ts';
import { XLSX_CONTENT_TYPE } from '../../bulk-changes/upload-input.ts';
import type { BulkChangeView, deviceChangeView } from '../../bulk-changes/views.ts';
import { moduleAllows } from '../../core/modules.ts';
import { type Counts, countKey, isTerminalBulkStatus, rowStatuses } from '../../core/statuses.ts';
import { NUMERIC_CURSOR } from '../../shared/paging.ts';
import { can, type PortalUser, requirePortalRole } from '../auth.ts';
import { statusBadge } from '../components/badges.ts';
import { count, duration, label, time } from '../components/format.ts';
import { actionButton, csrfField } from '../components/forms.ts';
import { pager } from '../components/pager.ts';
import { finishedRows, progressBar } from '../components/progress-bar.ts';
import { table } from '../components/table.ts';
import type { PortalApp, PortalDeps } from '../deps.ts';
import { href, html, type SafeHtml } from '../html.ts';
import { page, sendHtml } from '../layout.ts';
import { serviceInput } from '../preview-stash.ts';

const ROWS_PER_PAGE = 50;

const idParams = z.object({ id: z.string().min(1).max(100) });
const detailQuery = z.object({
  status: z
    .enum(rowStatuses)
    .optional()
    .or(z.literal('').transform(() => undefined)),
  q: z.string().trim().max(100).optional(),
  cursor: z.string().regex(NUMERIC_CURSOR, 'a row number').optional(),
});
type DetailQuery = z.infer<typeof detailQuery>;
/** The approval form: a note, required to reject (it is the reason the change is cancelled). */
const decisionForm = (noteRequired: boolean) =>
  z
    .object({
      note: noteRequired
        ? z.string().trim().min(1, 'Say why it is rejected').max(2000)
        : z.string().trim().max(2000).optional(),
    })
    .loose();
type ChangeRow = ReturnType<typeof deviceChangeView>;

const isFinished = (view: BulkChangeView) => isTerminalBulkStatus(view.status);

const countKeys: Array<[keyof Counts, string]> = [
  ['total', 'Total'],
  ['queued', 'Queued'],
  ['inProgress', 'In progress'],
  ['waiting', 'Waiting for the carrier'],
  ['succeeded', 'Succeeded'],
  ['failed', 'Failed'],
  ['cancelled', 'Cancelled'],
];

/** Rows finished per second since the change started, and the time left at that pace. portal.js does the same live. */
function pace(view: BulkChangeView, now = Date.now()) {
  const finished = finishedRows(view.counts);
  if (!view.startedAt || finished === 0) return { throughput: '—', eta: isFinished(view) ? 'done' : '—' };
  const end = view.completedAt ? Date.parse(view.completedAt) : now;
  const perSecond = finished / Math.max(1, (end - Date.parse(view.startedAt)) / 1000);
  const remaining = view.counts.total - finished;
  return {
    throughput: `${perSecond.toFixed(1)} rows/s`,
    eta: isFinished(view) || remaining === 0 ? 'done' : `about ${duration((remaining / perSecond) * 1000)}`,
  };
}

const link = (id: string | null) => id && html`<a href="/portal/bulk-changes/${id}">${id}</a>`;

function facts(view: BulkChangeView, accountName: string): SafeHtml {
  return html`<dl class="facts" id="facts" data-live-region>
  <div><dt>Status</dt><dd data-bulk-status>${statusBadge(view.status)}</dd></div>
  ${view.pause && html`<div><dt>Why it is paused</dt><dd class="pause-reason" data-pause-reason="${view.pause.reason}">${pauseText(view, view.pause)}</dd></div>`}
  ${view.approval && html`<div><dt>Approval</dt><dd class="approval" data-approval="${view.approval.decision?.outcome ?? 'awaiting'}">${approvalText(view.approval)}</dd></div>`}
  ${view.failureReason && html`<div><dt>Why it stopped</dt><dd class="stopped-reason">The engine gave up: ${view.failureReason}. Open rows were ended and their lines are free again.</dd></div>`}
  <div><dt>Carrier account</dt><dd>${accountName}</dd></div>
  <div><dt>Created</dt><dd>${time(view.createdAt)} by ${view.createdBy}</dd></div>
  ${view.scheduledFor && html`<div><dt>Scheduled for</dt><dd>${time(view.scheduledFor)}</dd></div>`}
  <div><dt>Started</dt><dd>${time(view.startedAt)}</dd></div>
  <div><dt>Completed</dt><dd>${time(view.completedAt)}</dd></div>
  ${Object.keys(view.options).length > 0 && html`<div><dt>Set for every row</dt><dd>${Object.entries(view.options).map(([name, value], index) => html`${index > 0 && ', '}${label(name)} = <code>${String(value)}</code>`)}</dd></div>`}
  ${view.parentId && html`<div><dt>Retry of</dt><dd>${link(view.parentId)}</dd></div>`}
  ${view.linkedId && html`<div><dt>Linked change</dt><dd>${link(view.linkedId)}</dd></div>`}
  ${view.retriedAsId && html`<div><dt>Failed rows retried in</dt><dd>${link(view.retriedAsId)}</dd></div>`}
  ${view.undoOf && html`<div><dt>Undo of</dt><dd>${link(view.undoOf)}</dd></div>`}
  ${view.undoneAsId && html`<div><dt>Undone by</dt><dd>${link(view.undoneAsId)}</dd></div>`}
</dl>`;
}

/** An approval in words: what the policy held, and who decided what, when and why. */
function approvalText(approval: NonNullable<BulkChangeView['approval']>): SafeHtml {
  const { action, lines, aboveLines } = approval.requiredBecause;
  const held = html`It would ${action} ${count(lines)} lines, more than the ${count(aboveLines)} the tenant's policy lets go without a second person's approval.`;
  const { decision } = approval;
  if (!decision)
    return html`<strong>Awaiting approval</strong> since ${time(approval.requestedAt)}. ${held} Nothing is sent until an approver other than its creator approves it.`;
  const note = decision.note ? html` Note: “${decision.note}”` : '';
  return decision.outcome === 'approved'
    ? html`Approved by ${decision.byName} at ${time(decision.at)}.${note}`
    : html`Rejected by ${decision.byName} at ${time(decision.at)}; it was cancelled and nothing was sent.${note}`;
}

/** A pause in words: why, who, since when, and what happens next. */
function pauseText(view: BulkChangeView, pause: NonNullable<BulkChangeView['pause']>): SafeHtml {
  const since = html`since ${time(pause.at)}`;
  switch (pause.reason) {
    case 'manual':
      return html`Paused by ${pause.by} ${since}. Nothing new is sent to the carrier until it is resumed; rows already with the carrier are still confirmed.`;
    case 'circuit_open':
      return html`The carrier account's circuit opened after repeated carrier faults (${since}). It resumes by itself once the carrier answers again, or resume it now.`;
    case 'blast_radius_cap':
      return html`The tenant's blast-radius cap is reached: ${String(pause.detail.sentInWindow)} destructive line changes in the last hour, at most ${String(pause.detail.destructiveLinesPerHour)} allowed (${since}). It resumes by itself at ${time(String(pause.detail.resumeAt))}, when the window allows more.`;
    case 'canary_halt':
      return html`Canary wave ${String(pause.detail.wave)} failed more often than allowed (${since}): ${String(pause.detail.failed)} of ${String(pause.detail.rows)} rows failed, above ${percent(Number(pause.detail.haltOnFailureRate))}. Check its <a href="/portal/bulk-changes/${view.id}?status=failed">failed rows</a>, then resume or cancel.`;
  }
}

const percent = (rate: number) => `${Math.round(rate * 1000) / 10} %`;

/** A change sent in canary waves: each wave as planned, how far it is, and each finished wave's figures. */
function wavesSection(view: BulkChangeView): SafeHtml {
  const { waves } = view;
  if (!waves) return html``;
  const planned = [
    ...waves.plan.waves.map((wave) => ('lines' in wave ? `${count(wave.lines)} lines` : `${wave.percent} %`)),
    'the rest',
  ];
  return html`<section class="waves" id="waves" data-live-region aria-labelledby="waves-title">
  <h2 id="waves-title">Canary waves</h2>
  <p>Sent in waves reaching ${planned.join(', then ')}; a wave failing more than ${percent(waves.plan.haltOnFailureRate)} of its rows pauses the change. Now: wave <strong data-current-wave>${waves.current}</strong>.</p>
  ${table({
    caption: 'Finished waves',
    rows: waves.results,
    empty: 'No wave has finished yet.',
    columns: [
      { header: 'Wave', cell: (result) => result.wave, className: 'num' },
      { header: 'Rows', cell: (result) => count(result.rows), className: 'num' },
      { header: 'Succeeded', cell: (result) => count(result.succeeded), className: 'num' },
      { header: 'Failed', cell: (result) => count(result.failed), className: 'num' },
      { header: 'Failure rate', cell: (result) => percent(result.failureRate), className: 'num' },
      {
        header: 'Outcome',
        cell: (result) => (result.halted ? statusBadge('halted') : statusBadge('passed')),
      },
    ],
  })}
</section>`;
}

function live(view: BulkChangeView): SafeHtml {
  const { throughput, eta } = pace(view);
  const source = isFinished(view)
    ? ''
    : html` data-progress-source="/portal/bulk-changes/${view.id}/events" data-started-at="${view.startedAt ?? ''}"`;
  return html`<section class="live" id="live" data-live-region aria-labelledby="progress-title"${source}>
  <h2 id="progress-title">Progress</h2>
  ${progressBar(view)}
  <dl class="counters">
    ${countKeys.map(([key, text]) => html`<div class="counter counter-${key}"><dt>${text}</dt><dd data-count="${key}">${count(view.counts[key])}</dd></div>`)}
    <div class="counter"><dt>Throughput</dt><dd data-throughput>${throughput}</dd></div>
    <div class="counter"><dt>Time left</dt><dd data-eta>${eta}</dd></div>
  </dl>
</section>`;
}

/**
 * Approve or reject, with a note, for an approver who did not create the change (four eyes); its
 * creator sees why they cannot.
 */
function approvalForm(user: PortalUser, view: BulkChangeView, createdByActor: string | null): SafeHtml {
  if (view.status !== 'awaiting_approval' || !can(user, 'approver')) return html``;
  if (createdByActor === actorOf(user.principal).id)
    return html`<p class="muted" data-own-change>You created this change: another approver must approve or reject it.</p>`;
  return html`<form method="post" class="approval-form" id="approval-form">
  ${csrfField(user)}
  <div class="field"><label for="approval-note">Note (required to reject)</label>
  <textarea id="approval-note" name="note" rows="2" maxlength="2000"></textarea></div>
  <button type="submit" class="button button-primary" formaction="/portal/bulk-changes/${view.id}/approve">Approve</button>
  <button type="submit" class="button button-danger" formaction="/portal/bulk-changes/${view.id}/reject">Reject</button>
</form>`;
}

function actions(user: PortalUser, view: BulkChangeView, createdByActor: string | null): SafeHtml {
  // Acting needs the role and, for a user limited to some modules, the account's module.
  const operator = can(user, 'operator') && moduleAllows(user.principal.modules, view.carrier);
  const canRetry = operator && isFinished(view) && view.counts.failed > 0 && !view.retriedAsId;
  const pausable = view.status !== 'awaiting_approval';
  const canUndo = operator && isFinished(view) && view.counts.succeeded > 0 && !view.undoneAsId;
  return html`<div class="actions" id="actions" data-live-region>
  <a class="button" href="/portal/bulk-changes/${view.id}/results.csv" download>Download results CSV</a>
  <a class="button" href="/portal/bulk-changes/${view.id}/results.xlsx" download>Download results XLSX</a>
  ${
    operator &&
    !isFinished(view) &&
    actionButton({
      user,
      action: `/portal/bulk-changes/${view.id}/cancel`,
      label: 'Cancel',
      variant: 'danger',
      confirm: 'Cancel this bulk change? Rows not yet sent to the carrier will be cancelled.',
    })
  }
  ${approvalForm(user, view, createdByActor)}
  ${
    operator &&
    !isFinished(view) &&
    pausable &&
    (view.status === 'paused'
      ? actionButton({
          user,
          action: `/portal/bulk-changes/${view.id}/resume`,
          label: 'Resume',
          variant: 'primary',
        })
      : actionButton({ user, action: `/portal/bulk-changes/${view.id}/pause`, label: 'Pause' }))
  }
  ${
    canRetry &&
    actionButton({
      user,
      action: `/portal/bulk-changes/${view.id}/retry`,
      label: `Retry ${count(view.counts.failed)} failed rows`,
      variant: 'primary',
    })
  }
  ${
    canUndo &&
    actionButton({
      user,
      action: `/portal/bulk-changes/${view.id}/undo`,
      label: 'Undo…',
    })
  }
</div>`;
}

function statusTabs(view: BulkChangeView, query: DetailQuery): SafeHtml {
  const tabs: Array<[string | undefined, string, keyof Counts]> = [
    [undefined, 'All', 'total'],
    ...rowStatuses.map((status): [string, string, keyof Counts] => [status, label(status), countKey[status]]),
  ];
  return html`<nav class="tabs" aria-label="Rows by status"><ul>${tabs.map(
    ([status, text, key]) =>
      html`<li><a href="${href(`/portal/bulk-changes/${view.id}`, { status, q: query.q })}"${status === query.status ? html` aria-current="true"` : ''}>${text} <span class="tab-count" data-count="${key}">${count(view.counts[key])}</span></a></li>`,
  )}</ul></nav>`;
}

function rowsSection(view: BulkChangeView, query: DetailQuery, rows: ChangeRow[], nextCursor: string | null) {
  const base = `/portal/bulk-changes/${view.id}`;
  return html`<section id="rows" data-live-region aria-labelledby="rows-title">
  <h2 id="rows-title">Rows</h2>
  ${statusTabs(view, query)}
  <form method="get" action="${base}" class="filters" role="search">
    ${query.status && html`<input type="hidden" name="status" value="${query.status}">`}
    <div class="field"><label for="row-search">Find a line (ICCID, MSISDN, EID or IMEI)</label>
    <input id="row-search" name="q" type="search" value="${query.q ?? ''}" spellcheck="false"></div>
    <button type="submit" class="button">Find</button>
    ${query.q && html`<a href="${href(base, { status: query.status })}">Clear</a>`}
  </form>
  ${table({
    caption: 'Rows of this bulk change',
    rows,
    empty: query.q ? 'No row of this bulk change is for that line.' : 'No rows with this status.',
    columns: [
      { header: 'Row', cell: (row) => row.row, className: 'num' },
      { header: 'Line', cell: (row) => html`<code>${row.iccid ?? row.msisdn ?? row.eid}</code>` },
      { header: 'Status', cell: (row) => statusBadge(row.status) },
      { header: 'Step', cell: (row) => row.step },
      { header: 'Attempts', cell: (row) => row.attempts, className: 'num' },
      // A queued row with a time waits for it: its effective date, or its line's carrier quota.
      {
        header: 'Not sent before',
        cell: (row) => (row.status === 'queued' && row.nextCheckAt ? time(row.nextCheckAt) : ''),
      },
      {
        header: 'Problem',
        cell: (row) => row.error && html`<strong>${row.error.code}</strong> ${row.error.message}`,
      },
      { header: 'Updated', cell: (row) => time(row.updatedAt) },
      {
        header: 'Timeline',
        cell: (row) =>
          html`<a href="${base}/rows/${row.id}" aria-label="Timeline of row ${row.row}">Timeline</a>`,
      },
    ],
  })}
  ${pager({
    firstHref: query.cursor ? href(base, { status: query.status }) : null,
    nextHref: nextCursor ? href(base, { status: query.status, cursor: nextCursor }) : null,
  })}
</section>`;
}

function detailPage(options: {
  user: PortalUser;
  view: BulkChangeView;
  createdByActor: string | null;
  accountName: string;
  query: DetailQuery;
  rows: ChangeRow[];
  nextCursor: string | null;
}) {
  const { view } = options;
  return page({
    title: view.name,
    user: options.user,
    section: 'bulk-changes',
    body: html`<div class="page-head">
  <h1>${view.name}</h1>
</div>
<p class="muted">${label(view.changeType)} · <span class="id">${view.id}</span></p>
${facts(view, options.accountName)}
${actions(options.user, view, options.createdByActor)}
${live(view)}
${wavesSection(view)}
${rowsSection(view, options.query, options.rows, options.nextCursor)}`,
  });
}

export function bulkChangeDetailRoutes(app: PortalApp, deps: PortalDeps): void {
  app.get(
    '/bulk-changes/:id',
    { schema: { hide: true, params: idParams, querystring: detailQuery } },
    async (request, reply) => {
      const user = requirePortalRole(request, 'viewer');
      const { tenantId } = user.principal;
      const { id } = request.params;
      const query = request.query;
      const change = await deps.bulkChanges.find(tenantId, id);
      const view = await deps.bulkChanges.view(change);
      const account = await deps.accounts.get(tenantId, view.carrierAccountId);
      let rows: ChangeRow[];
      let nextCursor: string | null = null;
      if (query.q) {
        const lines = await deps.devices.findByIdentifier(tenantId, query.q);
        const found = await deps.bulkChanges.changesForDevices(
          tenantId,
          id,
          lines.map((line) => line.id),
        );
        rows = found.filter((row) => !query.status || row.status === query.status);
      } else {
        const listed = await deps.bulkChanges.changes(tenantId, id, { ...query, limit: ROWS_PER_PAGE });
        rows = listed.items;
        nextCursor = listed.nextCursor;
      }
      return sendHtml(
        reply,
        detailPage({
          user,
          view,
          createdByActor: change.createdByActor,
          accountName: account.name,
          query,
          rows,
          nextCursor,
        }),
      );
    },
  );

  app.get(
    '/bulk-changes/:id/events',
    { schema: { hide: true, params: idParams } },
    async (request, reply) => {
      const { tenantId } = requirePortalRole(request, 'viewer').principal;
      await deps.bulkChanges.find(tenantId, request.params.id);
      return streamProgress(reply, () => deps.bulkChanges.get(tenantId, request.params.id));
    },
  );

  app.get(
    '/bulk-changes/:id/results.csv',
    { schema: { hide: true, params: idParams } },
    async (request, reply) => {
      const { tenantId } = requirePortalRole(request, 'viewer').principal;
      await deps.bulkChanges.find(tenantId, request.params.id);
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="bulk-change-${request.params.id}.csv"`)
        .send(resultsCsv(deps.bulkChanges, tenantId, request.params.id));
    },
  );

  app.get(
    '/bulk-changes/:id/results.xlsx',
    { schema: { hide: true, params: idParams } },
    async (request, reply) => {
      const { tenantId } = requirePortalRole(request, 'viewer').principal;
      await deps.bulkChanges.find(tenantId, request.params.id);
      return reply
        .header('content-type', XLSX_CONTENT_TYPE)
        .header('content-disposition', `attachment; filename="bulk-change-${request.params.id}.xlsx"`)
        .send(resultsXlsx(deps.bulkChanges, tenantId, request.params.id));
    },
  );

  app.post(
    '/bulk-changes/:id/cancel',
    { schema: { hide: true, params: idParams } },
    async (request, reply) => {
      const { principal } = requirePortalRole(request, 'operator');
      await deps.bulkChanges.cancel(principal, request.params.id, request.id);
      return reply.redirect(`/portal/bulk-changes/${request.params.id}`, 303);
    },
  );

  for (const control of ['pause', 'resume'] as const) {
    app.post(
      `/bulk-changes/:id/${control}`,
      { schema: { hide: true, params: idParams } },
      async (request, reply) => {
        const { principal } = requirePortalRole(request, 'operator');
        await deps.bulkChanges[control](principal, request.params.id);
        return reply.redirect(`/portal/bulk-changes/${request.params.id}`, 303);
      },
    );
  }

  for (const [control, outcome] of [
    ['approve', 'approved'],
    ['reject', 'rejected'],
  ] as const) {
    app.post(
      `/bulk-changes/:id/${control}`,
      { schema: { hide: true, params: idParams } },
      async (request, reply) => {
        const { principal } = requirePortalRole(request, 'approver');
        const { note } = decisionForm(control === 'reject').parse(request.body ?? {});
        await deps.bulkChanges.decide(principal, request.params.id, { outcome, note: note || null });
        return reply.redirect(`/portal/bulk-changes/${request.params.id}`, 303);
      },
    );
  }
  // Undo builds the reverse and shows it as the preview of any upload: nothing is created until confirmed.
  app.post('/bulk-changes/:id/undo', { schema: { hide: true, params: idParams } }, async (request, reply) => {
    const user = requirePortalRole(request, 'operator');
    const { input, irreversible } = await deps.bulkChanges.undoInput(user.principal, request.params.id);
    const previewInput = { ...input, rowIssues: [] };
    const report = await deps.bulkChanges.create(user.principal, {
      ...serviceInput(previewInput),
      dryRun: true,
      acceptValidRows: false,
    });
    if (!('dryRun' in report)) throw new Error('A dry run created a bulk change');
    const account = await deps.accounts.get(user.principal.tenantId, input.carrierAccountId);
    const preview = deps.previews.put(user.session.id, {
      input: previewInput,
      report,
      accountName: account.name,
      source: `the undo of bulk change ${request.params.id}`,
      columns: [...new Set(input.rows.flatMap((row) => Object.keys(row.fields)))],
      irreversible,
    });
    return reply.redirect(`/portal/bulk-changes/preview/${preview.token}`, 303);
  });

  app.post(
    '/bulk-changes/:id/retry',
    { schema: { hide: true, params: idParams } },
    async (request, reply) => {
      const { principal } = requirePortalRole(request, 'operator');
      const { created } = await deps.bulkChanges.retry(principal, request.params.id, request.id);
      return reply.redirect(`/portal/bulk-changes/${created.id}`, 303);
    },
  );
}
