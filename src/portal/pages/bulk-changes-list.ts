import { z } from 'zod';
import type { BulkChangeView } from '../../bulk-changes/views.ts';
import { changeTypes } from '../../core/change-types.ts';
import { AppError } from '../../core/errors.ts';
import { type BulkStatus, bulkStatuses, isTerminalBulkStatus } from '../../core/statuses.ts';
import { pollingStream } from '../../shared/event-stream.ts';
import { can, type PortalUser, requirePortalRole } from '../auth.ts';
import { statusBadge } from '../components/badges.ts';
import { label, time } from '../components/format.ts';
import { pager } from '../components/pager.ts';
import { progressBar } from '../components/progress-bar.ts';
import { table } from '../components/table.ts';
import type { PortalApp, PortalDeps } from '../deps.ts';
import { href, html, type SafeHtml } from '../html.ts';
import { page, sendHtml } from '../layout.ts';

const PAGE_SIZE = 25;
const POLL_MS = 1000;

const listQuery = z.object({
  status: z
    .enum(bulkStatuses)
    .optional()
    .or(z.literal('').transform(() => undefined)),
  changeType: z
    .enum(changeTypes)
    .optional()
    .or(z.literal('').transform(() => undefined)),
  carrierAccountId: z.string().max(100).optional(),
  cursor: z.string().max(100).optional(),
});
type ListQuery = z.infer<typeof listQuery>;

/** Another tenant's id, or one since deleted, simply drops out of the stream. */
const unlessNotFound = (error: unknown): undefined => {
  if (error instanceof AppError && error.statusCode === 404) return undefined;
  throw error;
};

const isOpen = (status: BulkStatus) => !isTerminalBulkStatus(status);

function select(name: string, title: string, options: Array<[string, string]>, selected?: string): SafeHtml {
  return html`<div class="field">
  <label for="filter-${name}">${title}</label>
  <select id="filter-${name}" name="${name}">
    <option value="">Any</option>
    ${options.map(([value, text]) => html`<option value="${value}"${value === selected ? html` selected` : ''}>${text}</option>`)}
  </select>
</div>`;
}

function listPage(options: {
  user: PortalUser;
  query: ListQuery;
  items: BulkChangeView[];
  nextCursor: string | null;
  accountNames: Map<string, string>;
  changeTypes: string[];
}) {
  const { query, items, accountNames } = options;
  const filters = {
    status: query.status,
    changeType: query.changeType,
    carrierAccountId: query.carrierAccountId,
  };
  const open = items.filter((item) => isOpen(item.status)).map((item) => item.id);
  const rows = table({
    caption: 'Bulk changes, newest first',
    rows: items,
    empty: 'No bulk changes match these filters.',
    rowAttributes: (item) => html` data-bulk-change="${item.id}"`,
    columns: [
      {
        header: 'Name',
        cell: (item) => html`<a href="/portal/bulk-changes/${item.id}">${item.name}</a>`,
      },
      {
        header: 'Created',
        cell: (item) => html`<a href="/portal/bulk-changes/${item.id}">${time(item.createdAt)}</a>`,
      },
      { header: 'Type', cell: (item) => label(item.changeType) },
      {
        header: 'Carrier account',
        cell: (item) => accountNames.get(item.carrierAccountId) ?? item.carrierAccountId,
      },
      { header: 'Status', cell: (item) => statusBadge(item.status) },
      { header: 'Progress', cell: (item) => progressBar(item), className: 'progress-cell' },
      { header: 'Created by', cell: (item) => item.createdBy },
    ],
  });
  return page({
    title: 'Bulk changes',
    user: options.user,
    section: 'bulk-changes',
    body: html`<div class="page-head">
  <h1>Bulk changes</h1>
  ${can(options.user, 'operator') && html`<a class="button button-primary" href="/portal/bulk-changes/new">New bulk change</a>`}
</div>
<form method="get" action="/portal/bulk-changes" class="filters" aria-label="Filters">
  ${select(
    'status',
    'Status',
    bulkStatuses.map((status) => [status, label(status)]),
    query.status,
  )}
  ${select(
    'changeType',
    'Type',
    options.changeTypes.map((type) => [type, label(type)]),
    query.changeType,
  )}
  ${select('carrierAccountId', 'Carrier account', [...accountNames], query.carrierAccountId)}
  <button type="submit" class="button">Filter</button>
</form>
<div${open.length > 0 ? html` data-list-source="${href('/portal/bulk-changes/events', { ids: open.join(',') })}"` : ''}>
${rows}
</div>
${pager({
  firstHref: query.cursor ? href('/portal/bulk-changes', filters) : null,
  nextHref: options.nextCursor
    ? href('/portal/bulk-changes', { ...filters, cursor: options.nextCursor })
    : null,
})}`,
  });
}

export function bulkChangesListRoutes(app: PortalApp, deps: PortalDeps): void {
  app.get('/', { schema: { hide: true } }, async (_request, reply) =>
    reply.redirect('/portal/overview', 303),
  );

  app.get('/bulk-changes', { schema: { hide: true, querystring: listQuery } }, async (request, reply) => {
    const user = requirePortalRole(request, 'viewer');
    const { tenantId } = user.principal;
    const [accounts, listed] = await Promise.all([
      deps.accounts.list(tenantId),
      deps.bulkChanges.list(tenantId, { ...request.query, limit: PAGE_SIZE }),
    ]);
    return sendHtml(
      reply,
      listPage({
        user,
        query: request.query,
        items: listed.items,
        nextCursor: listed.nextCursor,
        accountNames: new Map(accounts.map((account) => [account.id, account.name])),
        changeTypes: deps.catalog.allChangeTypes(),
      }),
    );
  });

  /** One stream for every open change on the page: a stream each would exhaust the browser's connections. */
  app.get(
    '/bulk-changes/events',
    { schema: { hide: true, querystring: z.object({ ids: z.string().max(4000) }) } },
    async (request, reply) => {
      const { tenantId } = requirePortalRole(request, 'viewer').principal;
      const open = new Set(request.query.ids.split(',').filter(Boolean).slice(0, PAGE_SIZE));
      const last = new Map<string, string>();
      return pollingStream(reply, {
        intervalMs: POLL_MS,
        poll: async (send) => {
          for (const id of open) {
            const view = await deps.bulkChanges.get(tenantId, id).catch(unlessNotFound);
            if (!view) {
              open.delete(id);
              continue;
            }
            const payload = JSON.stringify({ status: view.status, counts: view.counts });
            if (payload !== last.get(id)) send('progress', { id, status: view.status, counts: view.counts });
            last.set(id, payload);
            if (!isOpen(view.status)) open.delete(id);
          }
          if (open.size === 0) send('done', {});
          return open.size > 0;
        },
      });
    },
  );
}
