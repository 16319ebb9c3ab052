import { z } from 'zod';
import type { Device } from '../../devices/devices-repository.ts';
import { toIso } from '../../shared/time.ts';
import { type PortalUser, requirePortalRole } from '../auth.ts';
import { statusBadge } from '../components/badges.ts';
import { time } from '../components/format.ts';
import { pager } from '../components/pager.ts';
import { table } from '../components/table.ts';
import type { PortalApp, PortalDeps } from '../deps.ts';
import { href, html } from '../html.ts';
import { page, sendHtml } from '../layout.ts';

const PAGE_SIZE = 50;

const devicesQuery = z.object({
  q: z.string().trim().max(100).optional(),
  cursor: z.string().max(100).optional(),
});

function devicesPage(options: {
  user: PortalUser;
  q?: string;
  devices: Device[];
  nextCursor: string | null;
  cursor?: string;
  accountNames: Map<string, string>;
}) {
  const { q } = options;
  return page({
    title: 'Devices',
    user: options.user,
    section: 'devices',
    body: html`<h1>Devices</h1>
<form method="get" action="/portal/devices" class="filters" role="search">
  <div class="field"><label for="device-search">ICCID, MSISDN, EID or IMEI</label>
  <input id="device-search" name="q" type="search" value="${q ?? ''}" spellcheck="false" autofocus></div>
  <button type="submit" class="button">Search</button>
  ${q && html`<a href="/portal/devices">Clear</a>`}
</form>
${table({
  caption: q ? `Lines matching ${q}` : 'Lines in the inventory',
  rows: options.devices,
  empty: q ? `No line has the identifier ${q}. Identifiers are matched exactly.` : 'The inventory is empty.',
  columns: [
    {
      header: 'ICCID',
      cell: (device) => html`<a href="/portal/devices/${device.id}"><code>${device.iccid ?? '—'}</code></a>`,
    },
    { header: 'MSISDN', cell: (device) => device.msisdn },
    { header: 'Status', cell: (device) => statusBadge(device.status) },
    { header: 'Carrier status', cell: (device) => device.carrierStatus },
    { header: 'Rate plan', cell: (device) => device.carrierRatePlan },
    {
      header: 'Carrier account',
      cell: (device) => options.accountNames.get(device.carrierAccountId) ?? '',
    },
    { header: 'Updated', cell: (device) => time(toIso(device.updatedAt)) },
  ],
})}
${pager({
  firstHref: options.cursor ? '/portal/devices' : null,
  nextHref: options.nextCursor ? href('/portal/devices', { cursor: options.nextCursor }) : null,
})}`,
  });
}

export function devicesRoutes(app: PortalApp, deps: PortalDeps): void {
  app.get('/devices', { schema: { hide: true, querystring: devicesQuery } }, async (request, reply) => {
    const user = requirePortalRole(request, 'viewer');
    const { tenantId } = user.principal;
    const { q, cursor } = request.query;
    const accounts = await deps.accounts.list(tenantId);
    const listed = q
      ? { items: await deps.devices.findByIdentifier(tenantId, q), nextCursor: null }
      : await deps.devices.list(tenantId, { cursor, limit: PAGE_SIZE });
    return sendHtml(
      reply,
      devicesPage({
        user,
        q,
        cursor,
        devices: listed.items,
        nextCursor: listed.nextCursor,
        accountNames: new Map(accounts.map((account) => [account.id, account.name])),
      }),
    );
  });
}
