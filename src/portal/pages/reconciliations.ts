import { z } from 'zod';
import { actorOf } from '../../audit/actor.ts';
import type { DryRunReport } from '../../bulk-changes/views.ts';
import type { DriftKind } from '../../core/drifts.ts';
import type { DriftView, ProposedFix, ReconciliationView } from '../../reconciliation/reconciliations.ts';
import { type PortalUser, requirePortalRole } from '../auth.ts';
import { statusBadge } from '../components/badges.ts';
import { count, label, time } from '../components/format.ts';
import { csrfField, problemList } from '../components/forms.ts';
import { table } from '../components/table.ts';
import type { PortalApp, PortalDeps } from '../deps.ts';
import { html, type SafeHtml } from '../html.ts';
import { page, sendHtml } from '../layout.ts';

const idParams = z.object({ id: z.string().min(1).max(100) });
/** Drifts shown on the page; the CSV has them all. */
const DRIFTS_SHOWN = 1_000;
/** A selected drift is a checkbox of its own name (`drift-<id>`): a form body keeps one value per name. */
const DRIFT_FIELD = /^drift-(\d{1,15})$/;

const kindText: Record<DriftKind, string> = {
  status_differs: 'Status differs',
  plan_differs: 'Rate plan differs',
  missing_from_inventory: 'At the carrier, not in the inventory',
  missing_at_carrier: 'In the inventory, not at the carrier',
  billed_but_deactivated: 'Billed but deactivated',
  active_not_billed: 'Active but not billed',
};

function runsPage(
  user: PortalUser,
  runs: ReconciliationView[],
  accounts: Array<{ id: string; name: string }>,
) {
  const names = new Map(accounts.map((account) => [account.id, account.name]));
  return page({
    title: 'Reconciliation',
    user,
    section: 'reconciliations',
    body: html`<h1>Reconciliation</h1>
<p class="hint">Compares each line as the carrier has it, as the inventory has it and as billing has it. Nothing changes until you propose a fix from a report.</p>
${
  user.principal.role !== 'viewer' &&
  html`<form method="post" action="/portal/reconciliations" class="filters">
  ${csrfField(user)}
  <div class="field"><label for="reconcile-account">Carrier account</label>
  <select id="reconcile-account" name="carrierAccountId">${accounts.map((account) => html`<option value="${account.id}">${account.name}</option>`)}</select></div>
  <button type="submit" class="button button-primary">Reconcile now</button>
</form>`
}
${table({
  caption: 'Reconciliations, newest first',
  rows: runs,
  empty: 'No reconciliation has run yet.',
  columns: [
    {
      header: 'Started',
      cell: (run) => html`<a href="/portal/reconciliations/${run.id}">${time(run.createdAt)}</a>`,
    },
    { header: 'Carrier account', cell: (run) => names.get(run.carrierAccountId) ?? run.carrierAccountId },
    { header: 'Status', cell: (run) => statusBadge(run.status) },
    { header: 'By', cell: (run) => (run.trigger === 'schedule' ? 'schedule' : run.requestedBy) },
    { header: 'Drifts', className: 'num', cell: (run) => (run.counts ? count(run.counts.drifts) : '') },
  ],
})}`,
  });
}

function driftTable(user: PortalUser, run: ReconciliationView, drifts: DriftView[]): SafeHtml {
  const operator = user.principal.role !== 'viewer';
  const rows = table({
    caption: 'Drifts',
    rows: drifts,
    empty: 'No drift: the carrier, the inventory and billing agree on every line.',
    columns: [
      ...(operator
        ? [
            {
              header: 'Fix',
              cell: (drift: DriftView) =>
                html`<input type="checkbox" name="drift-${drift.id}" aria-label="Select drift ${drift.id}" data-drift="${drift.kind}">`,
            },
          ]
        : []),
      { header: 'Drift', cell: (drift: DriftView) => kindText[drift.kind] },
      { header: 'ICCID', cell: (drift: DriftView) => html`<code>${drift.iccid ?? '—'}</code>` },
      { header: 'Field', cell: (drift: DriftView) => label(drift.field) },
      { header: 'Carrier', cell: (drift: DriftView) => drift.carrier ?? '—' },
      { header: 'Ours', cell: (drift: DriftView) => drift.ours ?? '—' },
      { header: 'Billing', cell: (drift: DriftView) => drift.billing ?? '—' },
    ],
  });
  if (!operator || drifts.length === 0) return rows;
  return html`<form method="post" action="/portal/reconciliations/${run.id}/fix" class="stack" id="fix-form">
  ${csrfField(user)}
  ${rows}
  <div class="actions">
    <button type="submit" name="dryRun" value="true" class="button">Preview fix</button>
    <button type="submit" name="dryRun" value="false" class="button button-primary">Propose fix</button>
  </div>
</form>`;
}

function runPage(user: PortalUser, run: ReconciliationView, accountName: string, drifts: DriftView[]) {
  const counts = run.counts;
  return page({
    title: `Reconciliation of ${accountName}`,
    user,
    section: 'reconciliations',
    body: html`<h1>Reconciliation of ${accountName}</h1>
<dl class="facts compact">
  <div><dt>Status</dt><dd data-reconciliation-status>${statusBadge(run.status)}</dd></div>
  <div><dt>Asked</dt><dd>${time(run.createdAt)}</dd></div>
  <div><dt>Completed</dt><dd>${time(run.completedAt)}</dd></div>
  ${
    counts &&
    html`<div><dt>Lines at the carrier</dt><dd>${count(counts.carrierLines)}</dd></div>
  <div><dt>Lines in the inventory</dt><dd>${count(counts.inventoryLines)}</dd></div>
  <div><dt>Active billing services</dt><dd>${counts.billingServices === null ? 'no billing connected' : count(counts.billingServices)}</dd></div>
  <div><dt>Drifts</dt><dd data-drift-count>${count(counts.drifts)}</dd></div>`
  }
</dl>
${run.error && html`<div class="alert alert-error" role="alert"><p>${run.error}</p></div>`}
${
  run.status === 'queued' || run.status === 'running'
    ? html`<p>The reconciliation is ${run.status}. <a href="/portal/reconciliations/${run.id}">Refresh</a></p>`
    : html`<p><a href="/portal/reconciliations/${run.id}/drifts.csv" download>Download the drifts (CSV)</a></p>
${counts && counts.drifts > drifts.length && html`<p class="hint">The first ${count(drifts.length)} drifts are shown; the CSV has them all.</p>`}
${driftTable(user, run, drifts)}`
}`,
  });
}

function fixPage(user: PortalUser, run: ReconciliationView, fix: ProposedFix, selected: string[]) {
  return page({
    title: fix.dryRun ? 'Fix preview' : 'Fix proposed',
    user,
    section: 'reconciliations',
    body: html`<h1>${fix.dryRun ? 'Fix preview' : 'Fix proposed'}</h1>
<p><a href="/portal/reconciliations/${run.id}">Back to the reconciliation</a></p>
${fix.changes.length === 0 && html`<p class="empty">None of the selected drifts can be fixed by a bulk change.</p>`}
<ul class="stack" data-fix-changes>
${fix.changes.map((change) => {
  if ('preview' in change) {
    const { summary } = change.preview;
    return html`<li>${label(change.changeType)}: ${count(summary.total)} rows, ${count(summary.wouldSucceed)} would go, ${count(summary.wouldFail)} would be refused
    ${summary.wouldFail > 0 && problemList('Rows that would be refused', refusedRows(change.preview))}</li>`;
  }
  if ('created' in change)
    return html`<li>${label(change.changeType)}: <a href="/portal/bulk-changes/${change.created.id}" data-fix-change>bulk change of ${count(change.created.counts.total)} lines</a>${change.rejectedRows.length > 0 && problemList(`${change.rejectedRows.length} rows were left out`, change.rejectedRows)}</li>`;
  return html`<li>${label(change.changeType)}: ${problemList(change.refused.message, change.refused.details)}</li>`;
})}
</ul>
${fix.notFixable.length > 0 && html`<h2>Not fixed by a change</h2><ul>${fix.notFixable.map((item) => html`<li>Drift ${item.driftId}: ${item.reason}</li>`)}</ul>`}
${
  fix.dryRun &&
  fix.changes.length > 0 &&
  html`<form method="post" action="/portal/reconciliations/${run.id}/fix">
  ${csrfField(user)}
  ${selected.map((id) => html`<input type="hidden" name="drift-${id}" value="on">`)}
  <button type="submit" name="dryRun" value="false" class="button button-primary">Propose fix</button>
</form>`
}`,
  });
}

/** A preview's rows that would fail, as the problem list shows details. */
const refusedRows = (preview: DryRunReport) =>
  preview.rows.flatMap((row) =>
    row.outcome === 'would_fail'
      ? [
          {
            row: row.row,
            field: row.field,
            code: row.code ?? 'VALIDATION_FAILED',
            message: row.message ?? '',
          },
        ]
      : [],
  );

export function reconciliationsRoutes(app: PortalApp, deps: PortalDeps): void {
  app.get('/reconciliations', { schema: { hide: true } }, async (request, reply) => {
    const user = requirePortalRole(request, 'viewer');
    const { tenantId } = user.principal;
    const [runs, accounts] = await Promise.all([
      deps.reconciliations.list(tenantId, { limit: 50 }),
      deps.accounts.list(tenantId),
    ]);
    return sendHtml(reply, runsPage(user, runs.items, accounts));
  });

  app.post(
    '/reconciliations',
    { schema: { hide: true, body: z.object({ carrierAccountId: z.string().min(1).max(100) }).loose() } },
    async (request, reply) => {
      const user = requirePortalRole(request, 'operator');
      const account = await deps.accounts.get(user.principal.tenantId, request.body.carrierAccountId);
      const run = await deps.reconciliations.request(account, actorOf(user.principal));
      return reply.redirect(`/portal/reconciliations/${run.id}`, 303);
    },
  );

  app.get('/reconciliations/:id', { schema: { hide: true, params: idParams } }, async (request, reply) => {
    const user = requirePortalRole(request, 'viewer');
    const { tenantId } = user.principal;
    const run = await deps.reconciliations.get(tenantId, request.params.id);
    const account = await deps.accounts.get(tenantId, run.carrierAccountId);
    const drifts =
      run.status === 'completed'
        ? (await deps.reconciliations.drifts(tenantId, run.id, { limit: DRIFTS_SHOWN })).items
        : [];
    return sendHtml(reply, runPage(user, run, account.name, drifts));
  });

  app.get(
    '/reconciliations/:id/drifts.csv',
    { schema: { hide: true, params: idParams } },
    async (request, reply) => {
      const user = requirePortalRole(request, 'viewer');
      const csv = await deps.reconciliations.driftsCsv(user.principal.tenantId, request.params.id);
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="reconciliation-${request.params.id}.csv"`)
        .send(csv);
    },
  );

  app.post(
    '/reconciliations/:id/fix',
    { schema: { hide: true, params: idParams, body: z.record(z.string(), z.string()) } },
    async (request, reply) => {
      const user = requirePortalRole(request, 'operator');
      const run = await deps.reconciliations.get(user.principal.tenantId, request.params.id);
      const selected = Object.keys(request.body).flatMap((name) => DRIFT_FIELD.exec(name)?.[1] ?? []);
      if (selected.length === 0) {
        return sendHtml(
          reply.status(422),
          page({
            title: 'Fix',
            user,
            section: 'reconciliations',
            body: html`<h1>Fix</h1>${problemList('Select at least one drift to fix')}
<p><a href="/portal/reconciliations/${run.id}">Back to the reconciliation</a></p>`,
          }),
        );
      }
      const fix = await deps.reconciliations.proposeFix(user.principal, run.id, {
        driftIds: selected,
        dryRun: request.body.dryRun === 'true',
      });
      return sendHtml(reply, fixPage(user, run, fix, selected));
    },
  );
}
