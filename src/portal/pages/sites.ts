import { z } from 'zod';
import { actorOf } from '../../audit/actor.ts';
import { AppError } from '../../core/errors.ts';
import { roleAllows } from '../../core/roles.ts';
import { newSiteSchema } from '../../devices/site-routes.ts';
import type { SiteView } from '../../devices/sites.ts';
import { type PortalUser, requirePortalRole } from '../auth.ts';
import { actionButton, csrfField, problemList } from '../components/forms.ts';
import { table } from '../components/table.ts';
import type { PortalApp, PortalDeps } from '../deps.ts';
import { html, type SafeHtml } from '../html.ts';
import { page, sendHtml } from '../layout.ts';

const idParams = z.object({ id: z.string().min(1).max(100) });

type Problem = { message: string; details: Array<{ field?: string; code: string; message: string }> };

const address = (site: SiteView) =>
  [site.addressLine1, site.addressLine2, `${site.city}, ${site.state} ${site.zipCode}`, site.country]
    .filter(Boolean)
    .join(' · ');

function sitesTable(user: PortalUser, sites: SiteView[], canEdit: boolean): SafeHtml {
  return table({
    caption: 'Sites',
    empty: 'No site yet.',
    rows: sites,
    columns: [
      {
        header: 'Name',
        cell: (site) => html`${site.name}${site.isDefault ? html` <span class="badge">default</span>` : ''}`,
      },
      { header: 'Address', cell: (site) => address(site) },
      {
        header: 'Contact',
        cell: (site) =>
          site.contactFirstName || site.contactLastName
            ? `${site.contactFirstName ?? ''} ${site.contactLastName ?? ''}`.trim()
            : html`<span class="muted">none</span>`,
      },
      { header: 'Id', cell: (site) => html`<code class="id">${site.id}</code>` },
      ...(canEdit
        ? [
            {
              header: 'Actions',
              cell: (site: SiteView) =>
                html`${
                  !site.isDefault &&
                  actionButton({ user, action: `/portal/sites/${site.id}/default`, label: 'Make default' })
                }
${actionButton({
  user,
  action: `/portal/sites/${site.id}/delete`,
  label: 'Delete',
  variant: 'danger',
  confirm: `Delete the site ${site.name}?`,
})}`,
            },
          ]
        : []),
    ],
  });
}

function addForm(user: PortalUser): SafeHtml {
  const field = (name: string, label: string, extra: SafeHtml | string = '') =>
    html`<div class="field"><label for="site-${name}">${label}</label>
    <input id="site-${name}" name="${name}"${extra}></div>`;
  return html`<form method="post" action="/portal/sites" class="stack card">
  ${csrfField(user)}
  <h2>Add a site</h2>
  ${field('name', 'Name', html` required maxlength="100"`)}
  ${field('contactFirstName', 'Contact first name', html` maxlength="50"`)}
  ${field('contactLastName', 'Contact last name', html` maxlength="50"`)}
  ${field('addressLine1', 'Address', html` required maxlength="60"`)}
  ${field('addressLine2', 'Address line 2', html` maxlength="60"`)}
  ${field('city', 'City', html` required maxlength="40"`)}
  ${field('state', 'State', html` required maxlength="20"`)}
  ${field('zipCode', 'ZIP code', html` required maxlength="10"`)}
  ${field('country', 'Country', html` value="USA" maxlength="40"`)}
  <div class="field-checkbox"><input type="checkbox" id="site-isDefault" name="isDefault"><label for="site-isDefault">Default site (activated lines without a site are put here)</label></div>
  <button type="submit" class="button button-primary">Add site</button>
</form>`;
}

async function listPage(user: PortalUser, deps: PortalDeps, problem?: Problem) {
  const sites = await deps.sites.list(user.principal.tenantId);
  const canEdit = roleAllows(user.principal.role, 'operator');
  return page({
    title: 'Sites',
    user,
    section: 'sites',
    body: html`<h1>Sites</h1>
${problem && problemList(problem.message, problem.details)}
<p class="hint">Put lines at a site with a <code>site_assignment</code> bulk change (CSV column <code>site</code>: a site's name or id). A ThingSpace activation sends the line's site (else the default site) as its place of use when the row names none and the site has a contact.</p>
${sitesTable(user, sites, canEdit)}
${canEdit && addForm(user)}`,
  });
}

/** A form's fields as the API takes them: empty fields are absent (the defaults apply), a checkbox a flag. */
const siteFormFields = (body: unknown): Record<string, unknown> => {
  const form = z.record(z.string(), z.string()).catch({}).parse(body);
  const given = Object.entries(form).filter(
    ([key, value]) => key !== '_csrf' && key !== 'isDefault' && value.trim() !== '',
  );
  return { ...Object.fromEntries(given), isDefault: form.isDefault === 'on' };
};

/**
 * The sites page: the tenant's sites for everyone, and for operators a form to add one, and buttons to
 * make one the default or delete it. Every action goes through the same service as the API.
 */
export function sitesRoutes(app: PortalApp, deps: PortalDeps): void {
  app.get('/sites', { schema: { hide: true } }, async (request, reply) => {
    const user = requirePortalRole(request, 'viewer');
    return sendHtml(reply, await listPage(user, deps));
  });

  app.post('/sites', { schema: { hide: true } }, async (request, reply) => {
    const user = requirePortalRole(request, 'operator');
    const form = newSiteSchema.safeParse(siteFormFields(request.body));
    if (!form.success) {
      const details = form.error.issues.map((issue) => ({
        field: issue.path.join('.'),
        code: 'INVALID_FIELD',
        message: issue.message,
      }));
      return sendHtml(
        reply,
        await listPage(user, deps, { message: 'The site has invalid fields', details }),
        422,
      );
    }
    try {
      await deps.sites.create(user.principal.tenantId, form.data, actorOf(user.principal));
    } catch (error) {
      if (!(error instanceof AppError) || error.statusCode !== 409) throw error;
      return sendHtml(reply, await listPage(user, deps, { message: error.message, details: [] }), 409);
    }
    return reply.redirect('/portal/sites', 303);
  });

  app.post('/sites/:id/default', { schema: { hide: true, params: idParams } }, async (request, reply) => {
    const user = requirePortalRole(request, 'operator');
    await deps.sites.update(
      user.principal.tenantId,
      request.params.id,
      { isDefault: true },
      actorOf(user.principal),
    );
    return reply.redirect('/portal/sites', 303);
  });

  app.post('/sites/:id/delete', { schema: { hide: true, params: idParams } }, async (request, reply) => {
    const user = requirePortalRole(request, 'operator');
    try {
      await deps.sites.delete(user.principal.tenantId, request.params.id, actorOf(user.principal));
    } catch (error) {
      if (!(error instanceof AppError) || error.statusCode !== 409) throw error;
      return sendHtml(reply, await listPage(user, deps, { message: error.message, details: [] }), 409);
    }
    return reply.redirect('/portal/sites', 303);
  });
}
