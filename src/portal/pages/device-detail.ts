import { z } from 'zod';
import type { LineHistoryEntry } from '../../devices/device-history-repository.ts';
import type { Device, DeviceHistoryEntry } from '../../devices/devices-repository.ts';
import { NUMERIC_CURSOR } from '../../shared/paging.ts';
import { toIso } from '../../shared/time.ts';
import { type PortalUser, requirePortalRole } from '../auth.ts';
import { statusBadge } from '../components/badges.ts';
import { label, time } from '../components/format.ts';
import { pager } from '../components/pager.ts';
import { table } from '../components/table.ts';
import type { PortalApp, PortalDeps } from '../deps.ts';
import { href, html } from '../html.ts';
import { page, sendHtml } from '../layout.ts';

const shownFields: Array<[keyof Device, string]> = [
  ['iccid', 'ICCID'],
  ['msisdn', 'MSISDN'],
  ['imei', 'IMEI'],
  ['eid', 'EID'],
  ['carrierStatus', 'Carrier status'],
  ['carrierRatePlan', 'Carrier rate plan'],
  ['communicationPlan', 'Communication plan'],
  ['optimizationGroup', 'Optimisation group'],
  ['customerRatePlanId', 'Customer rate plan'],
  ['customerPoolId', 'Customer pool'],
  ['billingCustomerId', 'Billing customer'],
  ['ipAddress', 'IP address'],
  ['username', 'Username'],
  ['siteId', 'Site'],
];

/** Changes shown on the line's page at a time. */
const HISTORY_PAGE = 50;

/** A field's value in the history: nothing shown as a dash. */
const value = (text: string | null) =>
  text === null ? html`<span class="muted">—</span>` : html`<code>${text}</code>`;

function devicePage(options: {
  user: PortalUser;
  device: Device;
  accountName: string;
  changes: { items: LineHistoryEntry[]; nextCursor: string | null };
  cursor?: string;
  history: DeviceHistoryEntry[];
}) {
  const { user, device, accountName, changes, history } = options;
  const here = `/portal/devices/${device.id}`;
  return page({
    title: `Line ${device.iccid ?? device.msisdn ?? device.id}`,
    user,
    section: 'devices',
    body: html`<p><a href="/portal/devices">← Devices</a></p>
<h1>Line <code>${device.iccid ?? device.msisdn ?? device.eid}</code></h1>
<dl class="facts">
  <div><dt>Status</dt><dd>${statusBadge(device.status)}${device.archived ? ' (archived)' : ''}</dd></div>
  <div><dt>Carrier account</dt><dd>${accountName}</dd></div>
  ${shownFields
    .filter(([key]) => device[key] !== null)
    .map(([key, text]) => html`<div><dt>${text}</dt><dd><code>${String(device[key])}</code></dd></div>`)}
  <div><dt>Updated</dt><dd>${time(toIso(device.updatedAt))}</dd></div>
</dl>
<h2 id="line-history">Changes to this line</h2>
${table({
  caption: 'Changes to this line, newest first',
  rows: changes.items,
  empty: 'No bulk change has changed this line yet.',
  rowAttributes: (entry) => html` data-history-field="${entry.field}"`,
  columns: [
    { header: 'Field', cell: (entry) => label(entry.field) },
    { header: 'Change', cell: (entry) => html`${value(entry.before)} → ${value(entry.after)}` },
    {
      header: 'Bulk change',
      cell: (entry) =>
        html`<a href="/portal/bulk-changes/${entry.bulkChangeId}/rows/${entry.changeId}">${entry.changeType ? label(entry.changeType) : entry.bulkChangeId}${entry.row === null ? '' : `, row ${entry.row}`}</a>`,
    },
    {
      header: 'By',
      cell: (entry) => html`<span title="${entry.actor}">${entry.actorName ?? entry.actor}</span>`,
    },
    { header: 'When', cell: (entry) => time(new Date(entry.at).toISOString()) },
  ],
})}
${pager({
  firstHref: options.cursor ? `${here}#line-history` : null,
  nextHref: changes.nextCursor ? `${href(here, { cursor: changes.nextCursor })}#line-history` : null,
})}
<h2>Bulk changes that touched this line</h2>
${table({
  caption: 'Bulk changes that touched this line, newest first',
  rows: history,
  empty: 'No bulk change has touched this line.',
  columns: [
    {
      header: 'Created',
      cell: (item) =>
        html`<a href="/portal/bulk-changes/${item.bulkChangeId}">${time(toIso(item.createdAt))}</a>`,
    },
    { header: 'Type', cell: (item) => label(item.changeType) },
    { header: 'Bulk change', cell: (item) => statusBadge(item.bulkStatus) },
    { header: 'This line', cell: (item) => statusBadge(item.status) },
    {
      header: 'Problem',
      cell: (item) => item.errorCode && html`<strong>${item.errorCode}</strong> ${item.errorMessage}`,
    },
    { header: 'By', cell: (item) => item.createdBy },
    {
      header: 'Timeline',
      cell: (item) =>
        html`<a href="/portal/bulk-changes/${item.bulkChangeId}/rows/${item.changeId}" aria-label="Timeline of row ${item.row}">Row ${item.row}</a>`,
    },
  ],
})}`,
  });
}

export function deviceDetailRoutes(app: PortalApp, deps: PortalDeps): void {
  app.get(
    '/devices/:id',
    {
      schema: {
        hide: true,
        params: z.object({ id: z.string().max(100) }),
        querystring: z.object({ cursor: z.string().regex(NUMERIC_CURSOR).optional() }),
      },
    },
    async (request, reply) => {
      const user = requirePortalRole(request, 'viewer');
      const { tenantId } = user.principal;
      const { cursor } = request.query;
      const device = await deps.devices.get(tenantId, request.params.id);
      const [account, changes, history] = await Promise.all([
        deps.accounts.get(tenantId, device.carrierAccountId),
        deps.devices.lineHistory(tenantId, device.id, { cursor, limit: HISTORY_PAGE }),
        deps.devices.history(tenantId, device.id),
      ]);
      return sendHtml(
        reply,
        devicePage({ user, device, accountName: account.name, changes, cursor, history }),
      );
    },
  );
}
