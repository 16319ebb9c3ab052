import { z } from 'zod';
import type { CarrierAccountView } from '../../accounts/carrier-accounts.ts';
import { exportFormats, exportHeaders, selectionForEditing } from '../../bulk-changes/selection-export.ts';
import { oneValueChangeTypes } from '../../bulk-changes/target-state.ts';
import { normalisedStatuses } from '../../core/statuses.ts';
import type { Device } from '../../devices/devices-repository.ts';
import { toIso } from '../../shared/time.ts';
import { can, type PortalUser, requirePortalRole } from '../auth.ts';
import { statusBadge } from '../components/badges.ts';
import { type Choice, namedChoice } from '../components/choices.ts';
import { label, time } from '../components/format.ts';
import { pager } from '../components/pager.ts';
import { table } from '../components/table.ts';
import type { PortalApp, PortalDeps } from '../deps.ts';
import { type DevicesFilter, deviceFilterShape, linesQuery } from '../device-filter.ts';
import { devicesCsv } from '../devices-csv.ts';
import { href, html, type SafeHtml } from '../html.ts';
import { page, sendHtml } from '../layout.ts';

const PAGE_SIZE = 50;

const devicesQuery = z.object({
  q: z.string().trim().max(100).optional(),
  cursor: z.string().max(100).optional(),
  ...deviceFilterShape,
});

const exportForEditingQuery = z.object({
  ...deviceFilterShape,
  carrierAccountId: z.string().trim().min(1).max(100),
  changeType: z.enum(oneValueChangeTypes),
  format: z.enum(exportFormats).default('xlsx'),
});

const filterOf = ({ carrierAccountId, status, carrierRatePlan, billingCustomerId }: DevicesFilter) => ({
  carrierAccountId,
  status,
  carrierRatePlan,
  billingCustomerId,
});

/** A select of the page's forms; a filter's may be left at "Any" (`anyOption`), the export's may not. */
function select(
  name: string,
  title: string,
  options: Choice[],
  selected?: string,
  anyOption = true,
): SafeHtml {
  return html`<div class="field">
  <label for="filter-${name}">${title}</label>
  <select id="filter-${name}" name="${name}">
    ${anyOption && html`<option value="">Any</option>`}
    ${options.map((option) => html`<option value="${option.value}"${option.value === selected ? html` selected` : ''}>${option.text}</option>`)}
  </select>
</div>`;
}

function filtersForm(filter: DevicesFilter, accounts: CarrierAccountView[], customers: Choice[]): SafeHtml {
  return html`<form method="get" action="/portal/devices" class="filters" aria-label="Filters">
  ${select(
    'carrierAccountId',
    'Carrier account',
    accounts.map((account) => ({ value: account.id, text: account.name })),
    filter.carrierAccountId,
  )}
  ${select(
    'status',
    'Status',
    normalisedStatuses.map((status) => ({ value: status, text: label(status) })),
    filter.status,
  )}
  <div class="field"><label for="filter-carrierRatePlan">Rate plan</label>
  <input id="filter-carrierRatePlan" name="carrierRatePlan" type="text" value="${filter.carrierRatePlan ?? ''}" spellcheck="false"></div>
  ${
    customers.length > 0
      ? select('billingCustomerId', 'Customer', customers, filter.billingCustomerId)
      : html`<div class="field"><label for="filter-billingCustomerId">Customer</label>
  <input id="filter-billingCustomerId" name="billingCustomerId" type="text" value="${filter.billingCustomerId ?? ''}" spellcheck="false"></div>`
  }
  <button type="submit" class="button">Filter</button>
  <a href="/portal/devices">Clear</a>
</form>`;
}

/** Export and "start a bulk change" for what the filter shows; a bulk change runs on one account. */
function filterActions(user: PortalUser, filter: DevicesFilter, shown: number): SafeHtml {
  if (shown === 0) return html``;
  const start = !can(user, 'operator')
    ? ''
    : filter.carrierAccountId
      ? html`<a class="button button-primary" href="${href('/portal/bulk-changes/new', { carrierAccountId: filter.carrierAccountId, changeType: 'status_update', ...linesQuery(filter) })}">Start a bulk change with these lines</a>`
      : html`<span class="hint">Choose a carrier account to start a bulk change with these lines, or to export them for editing: a bulk change runs on one account.</span>`;
  return html`<div class="actions">
  <a class="button" href="${href('/portal/devices/export.csv', filter)}" download>Export CSV</a>
  ${start}
</div>
${filter.carrierAccountId && exportForEditing(filter)}`;
}

/**
 * "Export for editing" (ADR 0059): the lines the filter shows, with the chosen change type's fields
 * beside their current values; uploaded back as that change, only the lines that differ are sent.
 */
function exportForEditing(filter: DevicesFilter): SafeHtml {
  return html`<form method="get" action="/portal/devices/export-for-editing" class="filters" aria-label="Export for editing">
  ${Object.entries(filter).map(([name, value]) => value !== undefined && html`<input type="hidden" name="${name}" value="${value}">`)}
  ${select(
    'changeType',
    'Change to edit',
    oneValueChangeTypes.map((type) => ({ value: type, text: label(type) })),
    'status_update',
    false,
  )}
  ${select(
    'format',
    'Format',
    exportFormats.map((format) => ({ value: format, text: format.toUpperCase() })),
    'xlsx',
    false,
  )}
  <button type="submit" class="button">Export for editing</button>
  <span class="hint">Edit the desired columns and upload the file as a new bulk change of that type: only the lines whose value differs are sent.</span>
</form>`;
}

function devicesPage(options: {
  user: PortalUser;
  q?: string;
  filter: DevicesFilter;
  devices: Device[];
  nextCursor: string | null;
  cursor?: string;
  accounts: CarrierAccountView[];
  customers: Choice[];
}) {
  const { q, filter } = options;
  const accountNames = new Map(options.accounts.map((account) => [account.id, account.name]));
  const filtered = Object.values(filter).some((value) => value !== undefined);
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
${!q && filtersForm(filter, options.accounts, options.customers)}
${!q && filterActions(options.user, filter, options.devices.length)}
${table({
  caption: q ? `Lines matching ${q}` : filtered ? 'Lines matching the filters' : 'Lines in the inventory',
  rows: options.devices,
  empty: q
    ? `No line has the identifier ${q}. Identifiers are matched exactly.`
    : filtered
      ? 'No line matches these filters.'
      : 'The inventory is empty.',
  columns: [
    {
      header: 'ICCID',
      cell: (device) => html`<a href="/portal/devices/${device.id}"><code>${device.iccid ?? '—'}</code></a>`,
    },
    { header: 'MSISDN', cell: (device) => device.msisdn },
    { header: 'Status', cell: (device) => statusBadge(device.status) },
    { header: 'Carrier status', cell: (device) => device.carrierStatus },
    { header: 'Rate plan', cell: (device) => device.carrierRatePlan },
    { header: 'Customer', cell: (device) => device.billingCustomerId },
    { header: 'Carrier account', cell: (device) => accountNames.get(device.carrierAccountId) ?? '' },
    { header: 'Updated', cell: (device) => time(toIso(device.updatedAt)) },
  ],
})}
${pager({
  firstHref: options.cursor ? href('/portal/devices', filter) : null,
  nextHref: options.nextCursor ? href('/portal/devices', { ...filter, cursor: options.nextCursor }) : null,
})}`,
  });
}

export function devicesRoutes(app: PortalApp, deps: PortalDeps): void {
  app.get('/devices', { schema: { hide: true, querystring: devicesQuery } }, async (request, reply) => {
    const user = requirePortalRole(request, 'viewer');
    const { tenantId } = user.principal;
    const { q, cursor } = request.query;
    const filter = filterOf(request.query);
    const [accounts, customers] = await Promise.all([
      deps.accounts.list(tenantId),
      deps.catalogs.list(tenantId, 'billing_customers'),
    ]);
    const listed = q
      ? { items: await deps.devices.findByIdentifier(tenantId, q), nextCursor: null }
      : await deps.devices.list(tenantId, { ...filter, cursor, limit: PAGE_SIZE });
    return sendHtml(
      reply,
      devicesPage({
        user,
        q,
        filter,
        cursor,
        devices: listed.items,
        nextCursor: listed.nextCursor,
        accounts,
        customers: customers.map((customer) => namedChoice(customer.id, customer.name)),
      }),
    );
  });

  app.get(
    '/devices/export.csv',
    { schema: { hide: true, querystring: z.object(deviceFilterShape) } },
    async (request, reply) => {
      const { tenantId } = requirePortalRole(request, 'viewer').principal;
      const accounts = await deps.accounts.list(tenantId);
      const accountNames = new Map(accounts.map((account) => [account.id, account.name]));
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="devices.csv"')
        .send(devicesCsv(deps.devices.matching(tenantId, filterOf(request.query)), accountNames));
    },
  );

  app.get(
    '/devices/export-for-editing',
    { schema: { hide: true, querystring: exportForEditingQuery } },
    async (request, reply) => {
      const { principal } = requirePortalRole(request, 'viewer');
      const { changeType, format, carrierAccountId } = request.query;
      const editable = await deps.bulkChanges.editableFields(principal, carrierAccountId, changeType);
      const lines = deps.devices.matching(principal.tenantId, filterOf(request.query));
      return reply
        .headers(exportHeaders(changeType, format))
        .send(selectionForEditing(editable, lines, format));
    },
  );
}
