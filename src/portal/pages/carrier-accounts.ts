import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import type { CarrierAccountView } from '../../accounts/carrier-accounts.ts';
import { actorOf } from '../../audit/actor.ts';
import type { AccountHealthSnapshot } from '../../carriers/account-health.ts';
import { AppError } from '../../core/errors.ts';
import type { CarrierLimits } from '../../core/flow.ts';
import { pollingStream } from '../../shared/event-stream.ts';
import { type PortalUser, requirePortalRole } from '../auth.ts';
import { count, label, percent, time } from '../components/format.ts';
import { actionButton, csrfField } from '../components/forms.ts';
import { barChart } from '../components/health-chart.ts';
import type { PortalApp, PortalDeps } from '../deps.ts';
import { html, type SafeHtml } from '../html.ts';
import { page, sendHtml } from '../layout.ts';
import { fromUnit, inUnit, limitUnits } from '../limit-units.ts';

const HEALTH_POLL_MS = 2000;
const idParams = z.object({ id: z.string().min(1).max(100) });

const circuitText: Record<AccountHealthSnapshot['circuit'], string> = {
  closed: 'Closed: calls flow',
  open: 'Open: calls stopped after repeated failures',
  half_open: 'Half open: the next call probes the carrier',
  unknown: 'No calls from this process yet',
};

/** The live part of an account's card; the health stream sends it again every few seconds. */
export function healthPanel(account: CarrierAccountView, health: AccountHealthSnapshot): SafeHtml {
  const limit = account.limits.requestsPerSecond;
  const rate = `${health.requestsPerSecond.toFixed(1)} requests/s${limit === null ? ' (no limit)' : ` of ${limit} allowed`}`;
  const errors =
    health.errorRate === null
      ? 'no calls in the last minute'
      : `${percent(health.errorRate)} of ${count(health.calls)} calls`;
  return html`<div class="health" id="health-${account.id}">
  <div class="health-item"><h3>Requests per second</h3>
    ${barChart({ series: health.requestsPerSecondSeries, limit, tone: 'requests', description: `Requests per second over the last minute: ${rate}` })}
    <p>${rate}</p></div>
  <div class="health-item"><h3>Errors</h3>
    ${barChart({ series: health.faultsPerSecondSeries, limit: null, tone: 'faults', description: `Carrier faults per second over the last minute: ${errors}` })}
    <p>${errors}</p></div>
  <div class="health-item"><h3>Circuit</h3>
    <p><span class="badge badge-circuit-${health.circuit}">${health.circuit.replace('_', ' ')}</span></p>
    <p class="hint">${circuitText[health.circuit]}</p></div>
</div>`;
}

function limitsForm(
  user: PortalUser,
  account: CarrierAccountView,
  defaults: Partial<CarrierLimits>,
): SafeHtml {
  const overrides = (account.settings.limits ?? {}) as Record<string, unknown>;
  return html`<details class="limits-form"><summary>Change limits</summary>
  <form method="post" action="/portal/carrier-accounts/${account.id}/limits" class="stack">
    ${csrfField(user)}
    <p class="hint">Leave a field empty to use the carrier's default (shown greyed).</p>
    ${limitUnits.map(
      (unit) => html`<div class="field">
      <label for="limit-${account.id}-${unit.name}">${unit.label} (${unit.unit})</label>
      <input id="limit-${account.id}-${unit.name}" name="${unit.name}" type="number" min="0" step="any" inputmode="decimal"
        value="${inUnit(unit, overrides[unit.name])}"
        placeholder="${defaults[unit.name] === undefined || defaults[unit.name] === null ? 'no limit' : inUnit(unit, defaults[unit.name])}">
    </div>`,
    )}
    <button type="submit" class="button button-primary">Save limits</button>
  </form>
</details>`;
}

/** Renames the account, moves it to another URL or replaces its credentials (never shown). */
function editForm(user: PortalUser, deps: PortalDeps, account: CarrierAccountView): SafeHtml {
  const field = (name: string, text: string, value: string, type = 'text') =>
    html`<div class="field"><label for="edit-${account.id}-${name}">${text}</label>
    <input id="edit-${account.id}-${name}" name="${name}" type="${type}" value="${value}" autocomplete="off" spellcheck="false"></div>`;
  return html`<details class="edit-form"><summary>Edit account</summary>
  <form method="post" action="/portal/carrier-accounts/${account.id}" class="stack">
    ${csrfField(user)}
    ${field('name', 'Name', account.name)}
    ${field('baseUrl', 'Base URL', account.baseUrl, 'url')}
    <fieldset><legend>Replace credentials</legend>
      <p class="hint">Leave every field empty to keep the current credentials; to replace them, fill in all of them.</p>
      ${deps.catalog.credentialFields(account.carrier).map(({ name }) => field(`credentials.${name}`, label(name), '', 'password'))}
    </fieldset>
    <button type="submit" class="button button-primary">Save account</button>
  </form>
</details>`;
}

/** The last inventory sync, in words. */
function inventoryText(account: CarrierAccountView): SafeHtml {
  const sync = account.inventorySync;
  if (!sync) return html`Never synced`;
  const { result } = sync;
  if (typeof result.error === 'string') return html`Last sync failed ${time(sync.at)}: ${result.error}`;
  const lines = Number(result.lines ?? 0);
  return html`Synced ${time(sync.at)}: ${count(lines)} ${lines === 1 ? 'line' : 'lines'} read (${count(Number(result.created ?? 0))} new, ${count(Number(result.changed ?? 0))} changed)`;
}

function accountCard(user: PortalUser, deps: PortalDeps, account: CarrierAccountView): SafeHtml {
  const defaults = deps.catalog.defaultLimits(account.carrier);
  return html`<article class="card" id="account-${account.id}" aria-labelledby="account-${account.id}-name">
  <h2 id="account-${account.id}-name">${account.name}</h2>
  <p class="muted">${deps.catalog.title(account.carrier)}${typeof account.settings.variant === 'string' ? ` · ${label(account.settings.variant)}` : ''} · <code>${account.baseUrl}</code></p>
  ${account.callbackRegistration && html`<p class="${account.callbackRegistration.ok ? 'hint' : 'alert alert-error'}" data-callback-registration>${account.callbackRegistration.ok ? `Callbacks registered at ${account.callbackRegistration.at}` : `Callback registration refused at ${account.callbackRegistration.at}: ${account.callbackRegistration.error ?? 'no reason given'}. Results are polled.`}</p>`}
  <div class="write-toggle">
    <span>Writes: <strong>${account.writeEnabled ? 'enabled' : 'disabled'}</strong></span>
    ${actionButton({
      user,
      action: `/portal/carrier-accounts/${account.id}/write-enabled`,
      label: account.writeEnabled ? 'Disable writes' : 'Enable writes',
      variant: account.writeEnabled ? 'danger' : 'primary',
      hidden: { writeEnabled: String(!account.writeEnabled) },
      ...(account.writeEnabled
        ? {}
        : { confirm: `Enable writes on ${account.name}? Bulk changes will reach the carrier.` }),
    })}
  </div>
  <div class="write-toggle" data-inventory-sync>
    <span>Inventory: ${inventoryText(account)}</span>
    ${actionButton({ user, action: `/portal/carrier-accounts/${account.id}/inventory-sync`, label: 'Sync inventory' })}
  </div>
  <dl class="facts compact">
    ${limitUnits.map((unit) => html`<div><dt>${unit.label}</dt><dd data-limit="${unit.name}">${unit.show(account.limits[unit.name])}</dd></div>`)}
  </dl>
  ${limitsForm(user, account, defaults)}
  ${editForm(user, deps, account)}
  ${healthPanel(account, deps.health.snapshot(account.id))}
</article>`;
}

function accountsPage(user: PortalUser, deps: PortalDeps, accounts: CarrierAccountView[], problem?: string) {
  return page({
    title: 'Carrier accounts',
    user,
    section: 'carrier-accounts',
    body: html`<div class="page-head">
  <h1>Carrier accounts</h1>
  <a class="button button-primary" href="/portal/carrier-accounts/new">Add a carrier account</a>
</div>
${problem && html`<div class="alert alert-error" role="alert"><p>${problem}</p></div>`}
<p class="hint">Health is what this process has seen over the last minute; it refreshes by itself.</p>
<div class="cards" data-fragments-source="/portal/carrier-accounts/health/events">
${accounts.map((account) => accountCard(user, deps, account))}
</div>`,
  });
}

/** Form numbers, in each limit's unit: empty means "the carrier's default", so the override is removed. */
const limitsBody = z
  .object(Object.fromEntries(limitUnits.map((unit) => [unit.name, z.string().trim().optional()])))
  .transform((fields) =>
    Object.fromEntries(
      limitUnits
        .filter((unit) => fields[unit.name] !== undefined && fields[unit.name] !== '')
        .map((unit) => [unit.name, fromUnit(unit, Number(fields[unit.name]))]),
    ),
  );

/** The edit form: empty credential boxes keep the credentials; any filled one replaces them whole. */
const editBody = z
  .object({ _csrf: z.string(), name: z.string().trim().min(1).max(200), baseUrl: z.string().trim().min(1) })
  .loose()
  .transform((fields) => {
    const credentials = Object.fromEntries(
      Object.entries(fields)
        .filter(
          ([name, value]) => name.startsWith('credentials.') && typeof value === 'string' && value !== '',
        )
        .map(([name, value]) => [name.slice('credentials.'.length), value]),
    );
    return {
      name: fields.name,
      baseUrl: fields.baseUrl,
      ...(Object.keys(credentials).length > 0 ? { credentials } : {}),
    };
  });

/** A refused account change, shown on the accounts page: "name: field: message; …". */
async function refusedChange(
  reply: FastifyReply,
  user: PortalUser,
  deps: PortalDeps,
  name: string,
  error: unknown,
) {
  if (!(error instanceof AppError) || error.statusCode !== 422) throw error;
  const problem = `${name}: ${error.details.map((detail) => `${detail.field}: ${detail.message}`).join('; ') || error.message}`;
  return sendHtml(
    reply,
    accountsPage(user, deps, await deps.accounts.list(user.principal.tenantId), problem),
    422,
  );
}

export function carrierAccountsRoutes(app: PortalApp, deps: PortalDeps): void {
  app.get('/carrier-accounts', { schema: { hide: true } }, async (request, reply) => {
    const user = requirePortalRole(request, 'admin');
    return sendHtml(reply, accountsPage(user, deps, await deps.accounts.list(user.principal.tenantId)));
  });

  app.get('/carrier-accounts/health/events', { schema: { hide: true } }, async (request, reply) => {
    const { tenantId } = requirePortalRole(request, 'admin').principal;
    return pollingStream(reply, {
      intervalMs: HEALTH_POLL_MS,
      poll: async (send) => {
        const accounts = await deps.accounts.list(tenantId);
        send(
          'fragments',
          Object.fromEntries(
            accounts.map((account) => [
              `health-${account.id}`,
              healthPanel(account, deps.health.snapshot(account.id)).value,
            ]),
          ),
        );
        return true;
      },
    });
  });

  app.post(
    '/carrier-accounts/:id/write-enabled',
    {
      schema: {
        hide: true,
        params: idParams,
        body: z.object({ _csrf: z.string(), writeEnabled: z.enum(['true', 'false']) }),
      },
    },
    async (request, reply) => {
      const { principal } = requirePortalRole(request, 'admin');
      await deps.accounts.update(
        principal.tenantId,
        request.params.id,
        { writeEnabled: request.body.writeEnabled === 'true' },
        actorOf(principal),
      );
      return reply.redirect(`/portal/carrier-accounts#account-${request.params.id}`, 303);
    },
  );

  app.post(
    '/carrier-accounts/:id/limits',
    { schema: { hide: true, params: idParams } },
    async (request, reply) => {
      const user = requirePortalRole(request, 'admin');
      const { tenantId } = user.principal;
      const limits = limitsBody.parse(request.body);
      const existing = await deps.accounts.get(tenantId, request.params.id);
      try {
        // settings is replaced whole by an update: everything but the limits is kept as it was.
        await deps.accounts.update(
          tenantId,
          existing.id,
          { settings: { ...existing.settings, limits } },
          actorOf(user.principal),
        );
      } catch (error) {
        return refusedChange(reply, user, deps, existing.name, error);
      }
      return reply.redirect(`/portal/carrier-accounts#account-${existing.id}`, 303);
    },
  );

  app.post('/carrier-accounts/:id', { schema: { hide: true, params: idParams } }, async (request, reply) => {
    const user = requirePortalRole(request, 'admin');
    const { tenantId } = user.principal;
    const existing = await deps.accounts.get(tenantId, request.params.id);
    try {
      await deps.accounts.update(
        tenantId,
        existing.id,
        editBody.parse(request.body),
        actorOf(user.principal),
      );
    } catch (error) {
      return refusedChange(reply, user, deps, existing.name, error);
    }
    return reply.redirect(`/portal/carrier-accounts#account-${existing.id}`, 303);
  });

  app.post(
    '/carrier-accounts/:id/inventory-sync',
    { schema: { hide: true, params: idParams } },
    async (request, reply) => {
      const { principal } = requirePortalRole(request, 'admin');
      const account = await deps.accounts.get(principal.tenantId, request.params.id);
      await deps.requestInventorySync(account, actorOf(principal));
      return reply.redirect(`/portal/carrier-accounts#account-${account.id}`, 303);
    },
  );
}
