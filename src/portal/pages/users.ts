import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { newUserSchema, type UserView, userPatchSchema } from '../../accounts/users.ts';
import { actorOf } from '../../audit/actor.ts';
import { modules } from '../../core/modules.ts';
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

const moduleLabel = {
  m2m: 'M2M (Jasper, ThingSpace, POND, Teal)',
  mobility: 'Mobility (Telegence)',
} as const;

const modulesText = (user: UserView) =>
  user.modules === null ? 'all' : user.modules.map((module) => module.toUpperCase()).join(', ');

function usersTable(user: PortalUser, users: UserView[]): SafeHtml {
  return table({
    caption: 'Users',
    empty: 'No user yet: add one below.',
    rows: users,
    rowAttributes: (row) => html` data-user="${row.email}"`,
    columns: [
      { header: 'Name', cell: (row) => row.name },
      { header: 'E-mail', cell: (row) => html`<code>${row.email}</code>` },
      { header: 'Role', cell: (row) => row.role },
      { header: 'Modules', cell: modulesText },
      { header: 'Last sign-in', cell: (row) => time(row.lastSignInAt) },
      { header: 'State', cell: (row) => (row.disabledAt ? 'disabled' : 'enabled') },
      {
        header: 'Actions',
        cell: (row) =>
          html`${
            row.disabledAt
              ? actionButton({ user, action: `/portal/users/${row.id}/enable`, label: `Enable ${row.email}` })
              : actionButton({
                  user,
                  action: `/portal/users/${row.id}/disable`,
                  label: `Disable ${row.email}`,
                  variant: 'danger',
                  confirm: `Disable ${row.email}? Their sessions end at once; what they did stays theirs.`,
                })
          }${accessForm(user, row)}`,
      },
    ],
  });
}

/** The role select and the module checkboxes, as set now (a new user: operator of every module). */
function accessFields(idSuffix: string, current: Pick<UserView, 'role' | 'modules'>): SafeHtml {
  return html`<div class="field"><label for="role-${idSuffix}">Role</label>
    <select id="role-${idSuffix}" name="role">${roles.map(
      (role) => html`<option value="${role}"${role === current.role ? html` selected` : ''}>${role}</option>`,
    )}</select></div>
  <fieldset><legend>Modules</legend>
    ${modules.map(
      (module) =>
        html`<div class="field-checkbox"><input type="checkbox" id="module-${module}-${idSuffix}" name="module:${module}"${
          current.modules === null || current.modules.includes(module) ? html` checked` : ''
        }><label for="module-${module}-${idSuffix}">${moduleLabel[module]}</label></div>`,
    )}
  </fieldset>`;
}

/** A user's role and modules, changed in place (their sessions take it at their next request). */
function accessForm(user: PortalUser, row: UserView): SafeHtml {
  return html`<details><summary>Role and modules</summary>
  <form method="post" action="/portal/users/${row.id}" class="stack">
    ${csrfField(user)}
    ${accessFields(row.id, row)}
    <button type="submit" class="button">Save ${row.email}</button>
  </form>
</details>`;
}

function addForm(user: PortalUser): SafeHtml {
  return html`<form method="post" action="/portal/users" class="stack card">
  ${csrfField(user)}
  <h2>Add a user</h2>
  <div class="field"><label for="user-name">Name</label>
    <input id="user-name" name="name" required maxlength="200"></div>
  <div class="field"><label for="user-email">E-mail address</label>
    <input id="user-email" name="email" type="email" required autocomplete="off"></div>
  ${accessFields('new', { role: 'operator', modules: null })}
  <div class="field"><label for="user-password">First password (at least 12 characters)</label>
    <input id="user-password" name="password" type="password" required autocomplete="new-password"></div>
  <p class="hint">Give the password to the user over a channel of its own; an admin sets a new one with <code>PATCH /api/v1/users/{id}</code>.</p>
  <button type="submit" class="button button-primary">Add user</button>
</form>`;
}

async function listPage(user: PortalUser, deps: PortalDeps, problem?: Problem) {
  const users = await deps.users.list(user.principal.tenantId);
  return page({
    title: 'Users',
    user,
    section: 'users',
    body: html`<h1>Users</h1>
${problem && problemList(problem.message, problem.details)}
<p class="hint">People who sign in with their e-mail address and a password. What each does is recorded as theirs: in the audit log, on the bulk changes they create and in each line's history.</p>
${usersTable(user, users)}
${addForm(user)}`,
  });
}

/** A form's fields, its `module:<name>` checkboxes as the modules: every one ticked is every module (`null`). */
function formWithModules(body: unknown): Record<string, unknown> {
  const form = z.record(z.string(), z.unknown()).parse(body ?? {});
  const chosen = modules.filter((module) => form[`module:${module}`] === 'on');
  return { ...form, modules: chosen.length === modules.length ? null : chosen };
}

const accessSchema = userPatchSchema.pick({ role: true, modules: true }).required();

/** Answers a refused form (409, 422) with the page and why; anything else is thrown on. */
async function refusedForm(error: unknown, user: PortalUser, deps: PortalDeps, reply: FastifyReply) {
  const problem = problemOf(error);
  if (problem.status !== 409 && problem.status !== 422) throw error;
  return sendHtml(reply, await listPage(user, deps, problem), problem.status);
}

/**
 * The users page (admin): the tenant's users with their role, modules and last sign-in, a form to add
 * one, disable / enable buttons and each one's role and modules to change. Everything goes through the same service as the API, audited alike.
 */
export function usersRoutes(app: PortalApp, deps: PortalDeps): void {
  app.get('/users', { schema: { hide: true } }, async (request, reply) => {
    const user = requirePortalRole(request, 'admin');
    return sendHtml(reply, await listPage(user, deps));
  });

  app.post('/users', { schema: { hide: true } }, async (request, reply) => {
    const user = requirePortalRole(request, 'admin');
    try {
      const input = newUserSchema.parse(formWithModules(request.body));
      await deps.users.create(user.principal.tenantId, input, actorOf(user.principal));
    } catch (error) {
      return refusedForm(error, user, deps, reply);
    }
    return reply.redirect('/portal/users', 303);
  });

  app.post('/users/:id', { schema: { hide: true, params: idParams } }, async (request, reply) => {
    const user = requirePortalRole(request, 'admin');
    try {
      const access = accessSchema.parse(formWithModules(request.body));
      await deps.users.update(user.principal.tenantId, request.params.id, access, actorOf(user.principal));
    } catch (error) {
      return refusedForm(error, user, deps, reply);
    }
    return reply.redirect('/portal/users', 303);
  });

  for (const [action, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    app.post(`/users/:id/${action}`, { schema: { hide: true, params: idParams } }, async (request, reply) => {
      const user = requirePortalRole(request, 'admin');
      await deps.users.update(
        user.principal.tenantId,
        request.params.id,
        { disabled },
        actorOf(user.principal),
      );
      return reply.redirect('/portal/users', 303);
    });
  }
}
