import { z } from 'zod';
import { type CarrierAccountView, limitsOverrideSchema } from '../../accounts/carrier-accounts.ts';
import { actorOf } from '../../audit/actor.ts';
import type { AccountHealthSnapshot } from '../../carriers/account-health.ts';
import { AppError } from '../../core/errors.ts';
import type { CarrierLimits } from '../../core/flow.ts';
import { pollingStream } from '../../shared/event-stream.ts';
import { type PortalUser, requirePortalRole } from '../auth.ts';
import { count, label, percent } from '../components/format.ts';
import { actionButton, csrfField } from '../components/forms.ts';
import { barChart } from '../components/health-chart.ts';
import type { PortalApp, PortalDeps } from '../deps.ts';
import { html, type SafeHtml } from '../html.ts';
import { page, sendHtml } from '../layout.ts';

const HEALTH_POLL_MS = 2000;
const limitNames = Object.keys(limitsOverrideSchema.shape) as Array<keyof typeof limitsOverrideSchema.shape>;
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
    <p class="hint">Leave a field empty to use the carrier's default.</p>
    ${limitNames.map(
      (name) => html`<div class="field">
      <label for="limit-${account.id}-${name}">${label(name)}</label>
      <input id="limit-${account.id}-${name}" name="${name}" type="number" min="0" step="any" inputmode="decimal"
        value="${overrides[name] === undefined || overrides[name] === null ? '' : String(overrides[name])}"
        placeholder="${String(defaults[name] ?? 'no limit')}">
    </div>`,
    )}
    <button type="submit" class="button button-primary">Save limits</button>
  </form>
</details>`;
}

function accountCard(user: PortalUser, deps: PortalDeps, account: CarrierAccountView): SafeHtml {
  const defaults = deps.catalog.defaultLimits(account.carrier);
  return html`<article class="card" id="account-${account.id}" aria-labelledby="account-${account.id}-name">
  <h2 id="account-${account.id}-name">${account.name}</h2>
  <p class="muted">${deps.catalog.title(account.carrier)}${typeof account.settings.variant === 'string' ? ` · ${account.settings.variant}` : ''} · <code>${account.baseUrl}</code></p>
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
  <dl class="facts compact">
    ${limitNames.map((name) => html`<div><dt>${label(name)}</dt><dd>${String(account.limits[name] ?? 'no limit')}</dd></div>`)}
  </dl>
  ${limitsForm(user, account, defaults)}
  ${healthPanel(account, deps.health.snapshot(account.id))}
</article>`;
}

function accountsPage(user: PortalUser, deps: PortalDeps, accounts: CarrierAccountView[], problem?: string) {
  return page({
    title: 'Carrier accounts',
    user,
    section: 'carrier-accounts',
    body: html`<h1>Carrier accounts</h1>
${problem && html`<div class="alert alert-error" role="alert"><p>${problem}</p></div>`}
<p class="hint">Health is what this process has seen over the last minute; it refreshes by itself.</p>
<div class="cards" data-fragments-source="/portal/carrier-accounts/health/events">
${accounts.map((account) => accountCard(user, deps, account))}
</div>`,
  });
}

/** Form numbers: empty means "the carrier's default", so the override is removed. */
const limitsBody = z
  .object(Object.fromEntries(limitNames.map((name) => [name, z.string().trim().optional()])))
  .transform((fields) =>
    Object.fromEntries(
      Object.entries(fields)
        .filter(([, value]) => value !== undefined && value !== '')
        .map(([name, value]) => [name, Number(value)]),
    ),
  );

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
        if (!(error instanceof AppError) || error.statusCode !== 422) throw error;
        const problem = `${existing.name}: ${error.details.map((detail) => `${detail.field}: ${detail.message}`).join('; ')}`;
        return sendHtml(reply, accountsPage(user, deps, await deps.accounts.list(tenantId), problem), 422);
      }
      return reply.redirect(`/portal/carrier-accounts#account-${existing.id}`, 303);
    },
  );
}
