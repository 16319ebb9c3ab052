import { z } from 'zod';
import type { ApiKeyView } from '../../accounts/api-keys.ts';
import { actorOf } from '../../audit/actor.ts';
import { type Problem, problemOf } from '../../core/problem.ts';
import { roles } from '../../core/roles.ts';
import { type PortalUser, requirePortalRole } from '../auth.ts';
import { time } from '../components/format.ts';
import { actionButton, csrfField, problemList } from '../components/forms.ts';
import { table } from '../components/table.ts';
import type { PortalApp, PortalDeps } from '../deps.ts';
import { html, type SafeHtml } from '../html.ts';
import { page, sendHtml } from '../layout.ts';

const idParams = z.object({ id: z.string().min(1).max(100) });
const keyForm = z.object({ name: z.string().trim().min(1).max(200), role: z.enum(roles) }).loose();

/** What the page may show besides the keys: a new key shown once, or why the form was refused. */
interface Notice {
  created?: { name: string; key: string };
  problem?: Problem;
}

function keysTable(user: PortalUser, keys: ApiKeyView[]): SafeHtml {
  return table({
    caption: 'API keys',
    empty: 'No API key yet.',
    rows: keys,
    rowAttributes: (key) => html` data-key="${key.name}"`,
    columns: [
      { header: 'Name', cell: (key) => key.name },
      { header: 'Role', cell: (key) => key.role },
      { header: 'Starts with', cell: (key) => html`<code>${key.prefix}…</code>` },
      { header: 'Created', cell: (key) => time(key.createdAt) },
      {
        header: 'Last used',
        cell: (key) => (key.lastUsedAt ? time(key.lastUsedAt) : html`<span class="muted">never</span>`),
      },
      {
        header: 'State',
        cell: (key) => (key.revokedAt ? html`revoked ${time(key.revokedAt)}` : 'active'),
      },
      {
        header: 'Actions',
        cell: (key) =>
          key.revokedAt
            ? ''
            : actionButton({
                user,
                action: `/portal/api-keys/${key.id}/revoke`,
                label: `Revoke ${key.name}`,
                variant: 'danger',
                confirm: `Revoke the key "${key.name}"? It stops working at once, in the API and in portal sessions.`,
              }),
      },
    ],
  });
}

function createForm(user: PortalUser): SafeHtml {
  return html`<form method="post" action="/portal/api-keys" class="stack card">
  ${csrfField(user)}
  <h2>Create a key</h2>
  <div class="field"><label for="key-name">Name (what or who uses it)</label>
    <input id="key-name" name="name" required maxlength="200" placeholder="billing export job"></div>
  <div class="field"><label for="key-role">Role</label>
    <select id="key-role" name="role">${roles.map((role) => html`<option value="${role}">${role}</option>`)}</select></div>
  <button type="submit" class="button button-primary">Create key</button>
</form>`;
}

async function listPage(user: PortalUser, deps: PortalDeps, notice: Notice = {}) {
  const keys = await deps.apiKeys.list(user.principal.tenantId);
  return page({
    title: 'API keys',
    user,
    section: 'api-keys',
    body: html`<h1>API keys</h1>
${
  notice.created &&
  html`<div class="alert alert-notice" role="status">
  <p>The key "${notice.created.name}". Copy it now: it is not shown again.</p>
  <p><code class="secret">${notice.created.key}</code></p>
</div>`
}${notice.problem && problemList(notice.problem.message, notice.problem.details)}
<p class="hint">Keys for programs (the API, the CLI). Each is recorded under its own name wherever it acts; its last use is kept to the minute.</p>
${keysTable(user, keys)}
${createForm(user)}`,
  });
}

/** The API keys page (admin): the tenant's keys with their last use, named new keys, revocation. */
export function apiKeysRoutes(app: PortalApp, deps: PortalDeps): void {
  app.get('/api-keys', { schema: { hide: true } }, async (request, reply) => {
    const user = requirePortalRole(request, 'admin');
    return sendHtml(reply, await listPage(user, deps));
  });

  app.post('/api-keys', { schema: { hide: true } }, async (request, reply) => {
    const user = requirePortalRole(request, 'admin');
    const parsed = keyForm.safeParse(request.body);
    if (!parsed.success) {
      return sendHtml(reply, await listPage(user, deps, { problem: problemOf(parsed.error) }), 422);
    }
    const created = await deps.apiKeys.create(
      user.principal.tenantId,
      { name: parsed.data.name, role: parsed.data.role },
      actorOf(user.principal),
    );
    return sendHtml(reply, await listPage(user, deps, { created }), 201);
  });

  app.post('/api-keys/:id/revoke', { schema: { hide: true, params: idParams } }, async (request, reply) => {
    const user = requirePortalRole(request, 'admin');
    await deps.apiKeys.revoke(user.principal.tenantId, request.params.id, actorOf(user.principal));
    return reply.redirect('/portal/api-keys', 303);
  });
}
