import { z } from 'zod';
import { actorOf } from '../../audit/actor.ts';
import { type EventType, eventTypes } from '../../bulk-changes/event-types.ts';
import { AppError } from '../../core/errors.ts';
import {
  defaultWebhookEvents,
  type WebhookDeliveryView,
  type WebhookEndpointView,
} from '../../notifications/webhooks.ts';
import { type PortalUser, requirePortalRole } from '../auth.ts';
import { statusBadge } from '../components/badges.ts';
import { time } from '../components/format.ts';
import { actionButton, csrfField, problemList } from '../components/forms.ts';
import { table } from '../components/table.ts';
import type { PortalApp, PortalDeps } from '../deps.ts';
import { html, type SafeHtml } from '../html.ts';
import { page, sendHtml } from '../layout.ts';

const idParams = z.object({ id: z.string().min(1).max(100) });
const DELIVERIES_SHOWN = 100;

/** What a page may show besides its content: a secret shown once, or why a form was refused. */
interface Notice {
  secret?: { url: string; secret: string };
  problem?: { message: string; details: Array<{ field?: string; code: string; message: string }> };
}

const eventLabel: Record<EventType, string> = {
  'bulk_change.created': 'Created',
  'bulk_change.started': 'Started',
  'bulk_change.paused': 'Paused',
  'bulk_change.resumed': 'Resumed',
  'bulk_change.awaiting_approval': 'Awaiting approval',
  'bulk_change.approved': 'Approved',
  'bulk_change.rejected': 'Rejected',
  'bulk_change.completed': 'Completed',
  'bulk_change.completed_with_errors': 'Completed with errors',
  'bulk_change.failed': 'Failed',
  'bulk_change.cancelled': 'Cancelled',
  'bulk_change.row_failed': 'Each failed row',
};

function notices(notice: Notice): SafeHtml {
  return html`${
    notice.secret &&
    html`<div class="alert alert-notice" role="status">
  <p>The signing secret of <code>${notice.secret.url}</code>. Copy it now: it is not shown again.</p>
  <p><code class="secret">${notice.secret.secret}</code></p>
  <p class="hint">Check each delivery's <code>Bulkchange-Signature</code> with it (docs/webhooks.md).</p>
</div>`
  }${notice.problem && problemList(notice.problem.message, notice.problem.details)}`;
}

function addForm(user: PortalUser): SafeHtml {
  return html`<form method="post" action="/portal/webhooks" class="stack card">
  ${csrfField(user)}
  <h2>Add an endpoint</h2>
  <div class="field"><label for="webhook-url">URL</label>
    <input id="webhook-url" name="url" type="url" required placeholder="https://ops.example.com/bulkchange-hook"></div>
  <div class="field"><label for="webhook-description">Description</label>
    <input id="webhook-description" name="description" maxlength="500"></div>
  <fieldset><legend>Events</legend>
    ${eventTypes.map(
      (type) =>
        html`<div class="field-checkbox"><input type="checkbox" id="event-${type}" name="event:${type}"${
          defaultWebhookEvents.includes(type) ? html` checked` : ''
        }><label for="event-${type}">${eventLabel[type]} <code>${type}</code></label></div>`,
    )}
  </fieldset>
  <button type="submit" class="button button-primary">Add endpoint</button>
</form>`;
}

function emailForm(user: PortalUser, settings: { emails: string[]; emailEnabled: boolean }): SafeHtml {
  return html`<form method="post" action="/portal/notification-settings" class="stack card">
  ${csrfField(user)}
  <h2>E-mail when a bulk change ends</h2>
  ${
    !settings.emailEnabled &&
    html`<p class="hint">This deployment sends no e-mail: set <code>BULKCHANGE_SMTP_URL</code> to turn it on.</p>`
  }
  <div class="field"><label for="notify-emails">Addresses (one per line or comma-separated)</label>
    <textarea id="notify-emails" name="emails" rows="3">${settings.emails.join('\n')}</textarea></div>
  <p class="hint">A bulk change can name more addresses of its own (<code>notifyEmails</code>).</p>
  <button type="submit" class="button button-primary">Save addresses</button>
</form>`;
}

function endpointsTable(user: PortalUser, endpoints: WebhookEndpointView[]): SafeHtml {
  return table({
    caption: 'Webhook endpoints',
    empty: 'No endpoint yet: add one below.',
    rows: endpoints,
    columns: [
      {
        header: 'URL',
        cell: (endpoint) =>
          html`<a href="/portal/webhooks/${endpoint.id}"><code>${endpoint.url}</code></a>${endpoint.description && html`<br><span class="muted">${endpoint.description}</span>`}`,
      },
      {
        header: 'Events',
        cell: (endpoint) => endpoint.events.map((type) => eventLabel[type as EventType] ?? type).join(', '),
      },
      { header: 'State', cell: (endpoint) => (endpoint.enabled ? 'enabled' : 'disabled') },
      {
        header: 'Actions',
        cell: (endpoint) =>
          html`${actionButton({ user, action: `/portal/webhooks/${endpoint.id}/test`, label: 'Send test event' })}
${actionButton({
  user,
  action: `/portal/webhooks/${endpoint.id}/rotate-secret`,
  label: 'Rotate secret',
  confirm: `Replace the secret of ${endpoint.url}? Deliveries are signed with the new one at once.`,
})}
${actionButton({
  user,
  action: `/portal/webhooks/${endpoint.id}/delete`,
  label: 'Delete',
  variant: 'danger',
  confirm: `Delete the endpoint ${endpoint.url}? It receives nothing more.`,
})}`,
      },
    ],
  });
}

async function listPage(user: PortalUser, deps: PortalDeps, notice: Notice = {}) {
  const { tenantId } = user.principal;
  const endpoints = await deps.webhooks.list(tenantId);
  const settings = await deps.notificationSettings.get(tenantId);
  return page({
    title: 'Webhooks',
    user,
    section: 'webhooks',
    body: html`<h1>Webhooks and e-mail</h1>
${notices(notice)}
<p class="hint">Each endpoint receives the events it names as signed <code>POST</code>s, retried for a day if it does not answer 2xx.</p>
${endpointsTable(user, endpoints)}
${addForm(user)}
${emailForm(user, settings)}`,
  });
}

function deliveriesTable(user: PortalUser, endpointId: string, deliveries: WebhookDeliveryView[]): SafeHtml {
  return table({
    caption: 'Deliveries',
    empty: 'Nothing delivered yet: send a test event.',
    rows: deliveries,
    columns: [
      { header: 'Created', cell: (delivery) => time(delivery.createdAt) },
      {
        header: 'Event',
        cell: (delivery) =>
          html`<code>${delivery.eventType}</code><br><span class="muted id">${delivery.eventId}</span>`,
      },
      { header: 'State', cell: (delivery) => statusBadge(delivery.state) },
      {
        header: 'Attempts',
        cell: (delivery) =>
          delivery.attempts.length === 0
            ? html`<span class="muted">none yet</span>`
            : html`<details><summary>${delivery.attempts.length} · last ${delivery.lastStatusCode === null ? 'no answer' : `HTTP ${delivery.lastStatusCode}`}</summary><ol>${delivery.attempts.map(
                (attempt) =>
                  html`<li>${time(attempt.at)} · ${attempt.statusCode === null ? 'no answer' : `HTTP ${attempt.statusCode}`} · ${attempt.durationMs} ms${attempt.error && html` · ${attempt.error}`}</li>`,
              )}</ol></details>`,
      },
      {
        header: 'Actions',
        cell: (delivery) =>
          actionButton({
            user,
            action: `/portal/webhooks/${endpointId}/deliveries/${delivery.id}/redeliver`,
            label: 'Redeliver',
          }),
      },
    ],
  });
}

/** Form fields: `event:<type>` checkboxes become the endpoint's events. */
const endpointForm = z
  .object({ url: z.string().trim(), description: z.string().trim().max(500).default('') })
  .loose()
  .transform((form) => ({
    url: form.url,
    description: form.description,
    events: eventTypes.filter((type) => (form as Record<string, unknown>)[`event:${type}`] === 'on'),
  }));

const emailsForm = z.object({ emails: z.string().max(10_000) }).loose();

/**
 * The webhooks page (admin): endpoints with their test, rotate and delete buttons, a form to add one (its
 * secret shown once on the page that answers), each endpoint's delivery log with redelivery, and the
 * tenant's e-mail addresses. Every action goes through the same service as the API, audited alike.
 */
export function webhooksRoutes(app: PortalApp, deps: PortalDeps): void {
  app.get('/webhooks', { schema: { hide: true } }, async (request, reply) => {
    const user = requirePortalRole(request, 'admin');
    return sendHtml(reply, await listPage(user, deps));
  });

  app.post('/webhooks', { schema: { hide: true } }, async (request, reply) => {
    const user = requirePortalRole(request, 'admin');
    const form = endpointForm.parse(request.body);
    try {
      const created = await deps.webhooks.create(
        user.principal.tenantId,
        { ...form, enabled: true, events: form.events.length ? form.events : defaultWebhookEvents },
        actorOf(user.principal),
      );
      return sendHtml(
        reply,
        await listPage(user, deps, { secret: { url: created.url, secret: created.secret } }),
        201,
      );
    } catch (error) {
      if (!(error instanceof AppError) || error.statusCode !== 422) throw error;
      return sendHtml(reply, await listPage(user, deps, { problem: error }), 422);
    }
  });

  app.post(
    '/webhooks/:id/rotate-secret',
    { schema: { hide: true, params: idParams } },
    async (request, reply) => {
      const user = requirePortalRole(request, 'admin');
      const rotated = await deps.webhooks.rotateSecret(
        user.principal.tenantId,
        request.params.id,
        actorOf(user.principal),
      );
      return sendHtml(
        reply,
        await listPage(user, deps, { secret: { url: rotated.url, secret: rotated.secret } }),
      );
    },
  );

  app.post('/webhooks/:id/delete', { schema: { hide: true, params: idParams } }, async (request, reply) => {
    const user = requirePortalRole(request, 'admin');
    await deps.webhooks.delete(user.principal.tenantId, request.params.id, actorOf(user.principal));
    return reply.redirect('/portal/webhooks', 303);
  });

  app.post('/webhooks/:id/test', { schema: { hide: true, params: idParams } }, async (request, reply) => {
    const user = requirePortalRole(request, 'admin');
    await deps.webhooks.sendTest(user.principal.tenantId, request.params.id, actorOf(user.principal));
    return reply.redirect(`/portal/webhooks/${request.params.id}`, 303);
  });

  app.post(
    '/webhooks/:id/deliveries/:deliveryId/redeliver',
    {
      schema: { hide: true, params: z.object({ id: z.string().max(100), deliveryId: z.string().max(100) }) },
    },
    async (request, reply) => {
      const user = requirePortalRole(request, 'admin');
      const { id, deliveryId } = request.params;
      await deps.webhooks.redeliver(user.principal.tenantId, id, deliveryId, actorOf(user.principal));
      return reply.redirect(`/portal/webhooks/${id}`, 303);
    },
  );

  app.get('/webhooks/:id', { schema: { hide: true, params: idParams } }, async (request, reply) => {
    const user = requirePortalRole(request, 'admin');
    const { tenantId } = user.principal;
    const endpoint = await deps.webhooks.get(tenantId, request.params.id);
    const deliveries = await deps.webhooks.deliveries(tenantId, endpoint.id, { limit: DELIVERIES_SHOWN });
    return sendHtml(
      reply,
      page({
        title: `Webhook ${endpoint.url}`,
        user,
        section: 'webhooks',
        body: html`<p><a href="/portal/webhooks">← Webhooks</a></p>
<h1><code>${endpoint.url}</code></h1>
<dl class="facts">
  <div><dt>Events</dt><dd>${endpoint.events.join(', ')}</dd></div>
  <div><dt>State</dt><dd>${endpoint.enabled ? 'enabled' : 'disabled'}</dd></div>
  <div><dt>Added</dt><dd>${time(endpoint.createdAt)}</dd></div>
</dl>
<p>${actionButton({ user, action: `/portal/webhooks/${endpoint.id}/test`, label: 'Send test event', variant: 'primary' })}</p>
<h2>Deliveries</h2>
${deliveriesTable(user, endpoint.id, deliveries.items)}
${deliveries.nextCursor && html`<p class="muted">The latest ${DELIVERIES_SHOWN} are shown; the API's <code>/webhooks/${endpoint.id}/deliveries</code> has them all.</p>`}`,
      }),
    );
  });

  app.post('/notification-settings', { schema: { hide: true } }, async (request, reply) => {
    const user = requirePortalRole(request, 'admin');
    const emails = emailsForm
      .parse(request.body)
      .emails.split(/[\s,;]+/)
      .filter((address) => address !== '');
    const invalid = emails.filter((address) => !z.email().safeParse(address).success);
    if (invalid.length > 0) {
      const problem = {
        message: 'Some addresses are not e-mail addresses',
        details: invalid.map((address) => ({ field: 'emails', code: 'INVALID_FIELD', message: address })),
      };
      return sendHtml(reply, await listPage(user, deps, { problem }), 422);
    }
    await deps.notificationSettings.setEmails(user.principal.tenantId, emails, actorOf(user.principal));
    return reply.redirect('/portal/webhooks', 303);
  });
}
