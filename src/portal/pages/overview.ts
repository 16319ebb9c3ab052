import type { CarrierAccountView } from '../../accounts/carrier-accounts.ts';
import type { BulkChangeView } from '../../bulk-changes/views.ts';
import type { AccountHealthSnapshot } from '../../carriers/account-health.ts';
import type { BulkStatus } from '../../core/statuses.ts';
import { can, type PortalUser, requirePortalRole } from '../auth.ts';
import { statusBadge } from '../components/badges.ts';
import { count, percent, time } from '../components/format.ts';
import { progressBar } from '../components/progress-bar.ts';
import { table } from '../components/table.ts';
import type { PortalApp, PortalDeps } from '../deps.ts';
import { href, html, type SafeHtml } from '../html.ts';
import { page, sendHtml } from '../layout.ts';

/** Shown per status on the first page; the bulk changes page has the rest. */
const SHOWN = 10;
const running: BulkStatus[] = ['processing', 'paused', 'queued', 'scheduled'];
const needingAttention: BulkStatus[] = ['failed', 'completed_with_errors'];

const newestFirst = (a: BulkChangeView, b: BulkChangeView) =>
  (a.createdAt ?? '') < (b.createdAt ?? '') ? 1 : -1;

function changesTable(caption: string, items: BulkChangeView[], empty: string): SafeHtml {
  return table({
    caption,
    rows: items,
    empty,
    rowAttributes: (item) => html` data-bulk-change="${item.id}"`,
    columns: [
      { header: 'Name', cell: (item) => html`<a href="/portal/bulk-changes/${item.id}">${item.name}</a>` },
      { header: 'Status', cell: (item) => statusBadge(item.status) },
      { header: 'Progress', cell: (item) => progressBar(item), className: 'progress-cell' },
      { header: 'Created', cell: (item) => time(item.createdAt) },
    ],
  });
}

/** One line per account: what an operator checks before starting a change on it. */
function healthTable(
  user: PortalUser,
  accounts: Array<CarrierAccountView & { health: AccountHealthSnapshot }>,
) {
  return table({
    caption: 'Carrier health over the last minute',
    rows: accounts,
    empty: 'No carrier account yet.',
    rowAttributes: (account) => html` data-account-health="${account.id}"`,
    columns: [
      {
        header: 'Carrier account',
        cell: (account) =>
          can(user, 'admin')
            ? html`<a href="/portal/carrier-accounts#account-${account.id}">${account.name}</a>`
            : account.name,
      },
      {
        header: 'Circuit',
        cell: (account) =>
          html`<span class="badge badge-circuit-${account.health.circuit}">${account.health.circuit.replace('_', ' ')}</span>`,
      },
      {
        header: 'Errors',
        cell: (account) =>
          account.health.errorRate === null
            ? html`<span class="muted">no calls</span>`
            : `${percent(account.health.errorRate)} of ${count(account.health.calls)} calls`,
      },
      {
        header: 'Requests/s',
        className: 'num',
        cell: (account) => account.health.requestsPerSecond.toFixed(1),
      },
      {
        header: 'Writes',
        cell: (account) => (account.writeEnabled ? 'enabled' : html`<strong>disabled</strong>`),
      },
    ],
  });
}

function overviewPage(options: {
  user: PortalUser;
  running: BulkChangeView[];
  attention: BulkChangeView[];
  accounts: Array<CarrierAccountView & { health: AccountHealthSnapshot }>;
}) {
  const { user } = options;
  const open = options.running.map((item) => item.id);
  const troubled = options.accounts.filter(
    (account) => account.health.circuit === 'open' || (account.health.errorRate ?? 0) > 0.2,
  );
  return page({
    title: 'Overview',
    user,
    section: 'overview',
    body: html`<div class="page-head">
  <h1>What is going on</h1>
  ${can(user, 'operator') && html`<a class="button button-primary" href="/portal/bulk-changes/new">New bulk change</a>`}
</div>
<p class="summary" data-overview-summary>
  <span><strong>${count(options.running.length)}</strong> running or waiting</span>
  <span class="${options.attention.length > 0 ? 'bad' : 'ok'}"><strong>${count(options.attention.length)}</strong> with failures to look at</span>
  <span class="${troubled.length > 0 ? 'bad' : 'ok'}"><strong>${count(troubled.length)}</strong> carrier accounts in trouble</span>
</p>
<section aria-labelledby="running"><h2 id="running">Running changes</h2>
<div${open.length > 0 ? html` data-list-source="${href('/portal/bulk-changes/events', { ids: open.join(',') })}"` : ''}>
${changesTable('Running, paused, queued and scheduled bulk changes', options.running, 'Nothing is running.')}
</div>
</section>
<section aria-labelledby="attention"><h2 id="attention">Failures needing attention</h2>
<p class="hint">Finished with failed rows and not retried yet. Open one to see why its rows failed, and retry them.</p>
${changesTable('Bulk changes with failed rows, not retried', options.attention, 'No failures waiting for you.')}
</section>
<section aria-labelledby="health"><h2 id="health">Carrier health</h2>
<p class="hint">What this process has seen over the last minute.</p>
${healthTable(user, options.accounts)}
</section>`,
  });
}

export function overviewRoutes(app: PortalApp, deps: PortalDeps): void {
  app.get('/overview', { schema: { hide: true } }, async (request, reply) => {
    const user = requirePortalRole(request, 'viewer');
    const { tenantId } = user.principal;
    const byStatus = (statuses: BulkStatus[]) =>
      Promise.all(statuses.map((status) => deps.bulkChanges.list(tenantId, { status, limit: SHOWN })));
    const [runningPages, attentionPages, accounts] = await Promise.all([
      byStatus(running),
      byStatus(needingAttention),
      deps.accounts.list(tenantId),
    ]);
    const attention = attentionPages
      .flatMap((listed) => listed.items)
      .filter((item) => item.retriedAsId === null)
      .sort(newestFirst)
      .slice(0, SHOWN);
    return sendHtml(
      reply,
      overviewPage({
        user,
        running: runningPages.flatMap((listed) => listed.items).sort(newestFirst),
        attention,
        accounts: accounts.map((account) => ({ ...account, health: deps.health.snapshot(account.id) })),
      }),
    );
  });
}
