import { z } from 'zod';
import type { BulkChangeView, deviceChangeView, RowAuditEntryView } from '../../bulk-changes/views.ts';
import { type PortalUser, requirePortalRole } from '../auth.ts';
import { statusBadge } from '../components/badges.ts';
import { label, time } from '../components/format.ts';
import type { PortalApp, PortalDeps } from '../deps.ts';
import { href, html, type SafeHtml } from '../html.ts';
import { page, sendHtml } from '../layout.ts';

/** A row makes a handful of calls; more than this is a row worth reading through the API. */
const ENTRIES_SHOWN = 200;

type ChangeRow = ReturnType<typeof deviceChangeView>;
type AuditEntry = RowAuditEntryView;

/** Audit entries were redacted when they were written; they are shown as stored. */
function payload(title: string, value: unknown): SafeHtml {
  if (value === null || value === undefined) return html`<p class="muted">${title}: none</p>`;
  const text = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
  return html`<details class="payload"><summary>${title}</summary><pre><code>${text}</code></pre></details>`;
}

function entry(item: AuditEntry): SafeHtml {
  const outcome = item.outcome === 'success' ? 'succeeded' : 'failed';
  return html`<li class="timeline-item timeline-${outcome}">
  <div class="timeline-head">
    ${time(item.at)} · <strong>${item.action}</strong> on ${item.system}
    ${item.httpStatus !== null && html` · HTTP ${item.httpStatus}`}
    ${item.durationMs !== null && html` · ${item.durationMs} ms`}
    · <span class="badge badge-${outcome}">${item.outcome}</span>
  </div>
  ${item.sliced && html`<p class="hint">A call for ${item.rows} rows at once: this row's part is shown (entry <code>${item.id}</code> holds the whole call).</p>`}
  ${payload('Request', item.request)}
  ${payload('Response', item.response)}
</li>`;
}

function rowFacts(row: ChangeRow): SafeHtml {
  const identifiers = (['iccid', 'msisdn', 'imei', 'eid'] as const).filter((key) => row[key]);
  return html`<dl class="facts">
  <div><dt>Status</dt><dd>${statusBadge(row.status)}</dd></div>
  ${identifiers.map((key) => html`<div><dt>${key.toUpperCase()}</dt><dd><code>${row[key]}</code></dd></div>`)}
  <div><dt>Step</dt><dd>${row.step}</dd></div>
  <div><dt>Attempts</dt><dd>${row.attempts}</dd></div>
  <div><dt>Requested</dt><dd>${Object.entries(row.request).map(([name, value], index) => html`${index > 0 && ', '}${label(name)} = <code>${String(value)}</code>`)}</dd></div>
  ${row.error && html`<div><dt>Problem</dt><dd><strong>${row.error.code}</strong> ${row.error.message}${row.error.carrierCode && html` (carrier code <code>${row.error.carrierCode}</code>)`}</dd></div>`}
  ${row.result && html`<div><dt>Result</dt><dd><code>${JSON.stringify(row.result)}</code></dd></div>`}
</dl>`;
}

function timelinePage(
  user: PortalUser,
  view: BulkChangeView,
  row: ChangeRow,
  entries: AuditEntry[],
  more: boolean,
) {
  const back = href(`/portal/bulk-changes/${view.id}`, { status: row.status });
  return page({
    title: `Row ${row.row}`,
    user,
    section: 'bulk-changes',
    body: html`<p><a href="${back}">← ${label(view.changeType)} ${view.id}</a></p>
<h1>Row ${row.row} <span class="muted id">${row.iccid ?? row.msisdn ?? row.eid}</span></h1>
${rowFacts(row)}
<h2>Timeline</h2>
<ol class="timeline">
  <li class="timeline-item"><div class="timeline-head">${time(view.createdAt)} · accepted at intake by ${view.createdBy}</div></li>
  ${entries.map(entry)}
  <li class="timeline-item"><div class="timeline-head">${time(row.updatedAt)} · now ${statusBadge(row.status)}${row.nextCheckAt && html` · next check ${time(row.nextCheckAt)}`}</div></li>
</ol>
${more && html`<p class="muted">The first ${ENTRIES_SHOWN} entries are shown; the API's <code>/log?changeId=${row.id}</code> has them all.</p>`}`,
  });
}

export function rowTimelineRoutes(app: PortalApp, deps: PortalDeps): void {
  app.get(
    '/bulk-changes/:id/rows/:changeId',
    { schema: { hide: true, params: z.object({ id: z.string().max(100), changeId: z.string().max(100) }) } },
    async (request, reply) => {
      const user = requirePortalRole(request, 'viewer');
      const { tenantId } = user.principal;
      const { id, changeId } = request.params;
      const view = await deps.bulkChanges.get(tenantId, id);
      const row = await deps.bulkChanges.change(tenantId, id, changeId);
      const log = await deps.bulkChanges.log(tenantId, id, { changeId, limit: ENTRIES_SHOWN });
      return sendHtml(reply, timelinePage(user, view, row, log.items, log.nextCursor !== null));
    },
  );
}
