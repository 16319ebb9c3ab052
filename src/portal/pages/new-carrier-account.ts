import { z } from 'zod';
import { actorOf } from '../../audit/actor.ts';
import { type CarrierName, carrierNames } from '../../core/change-types.ts';
import { AppError, type ErrorDetail } from '../../core/errors.ts';
import { type PortalUser, requirePortalRole } from '../auth.ts';
import { label } from '../components/format.ts';
import { csrfField, problemList } from '../components/forms.ts';
import type { PortalApp, PortalDeps } from '../deps.ts';
import { html, type SafeHtml } from '../html.ts';
import { page, sendHtml } from '../layout.ts';

const CREDENTIAL_PREFIX = 'credentials.';

const chooseQuery = z.object({ carrier: z.enum(carrierNames).optional() });

/** The form's fields; the carrier's credentials come as `credentials.<name>`. */
const accountForm = z
  .object({
    _csrf: z.string(),
    carrier: z.enum(carrierNames),
    name: z.string().trim().max(200),
    baseUrl: z.string().trim().max(2000),
    variant: z.string().max(100).optional(),
    writeEnabled: z.literal('true').optional(),
  })
  .loose();
type AccountForm = z.infer<typeof accountForm>;

/** Secrets are typed into password boxes: the browser neither shows nor keeps them. */
const isSecret = (name: string) => /password|secret|key|token/i.test(name);

function newAccountPage(options: {
  user: PortalUser;
  deps: PortalDeps;
  carrier: CarrierName;
  values?: Record<string, string>;
  problems?: { message: string; details: ErrorDetail[] };
}): SafeHtml {
  const { user, deps, carrier } = options;
  const values = options.values ?? {};
  const carriers = deps.catalog.carriers();
  const variants = deps.catalog.variants(carrier);
  const text = (name: string, title: string, hint: string, type = 'text') =>
    html`<div class="field"><label for="account-${name}">${title}</label>
  <input id="account-${name}" name="${name}" type="${type}" value="${type === 'password' ? '' : (values[name] ?? '')}" autocomplete="off" spellcheck="false" required>
  <span class="hint">${hint}</span></div>`;
  return page({
    title: 'Add a carrier account',
    user,
    section: 'carrier-accounts',
    body: html`<h1>Add a carrier account</h1>
${options.problems && problemList(options.problems.message, options.problems.details)}
<form method="get" action="/portal/carrier-accounts/new" class="filters" data-autosubmit aria-label="Choose the carrier">
  <div class="field"><label for="choose-carrier">Carrier</label>
  <select id="choose-carrier" name="carrier">
    ${carriers.map((entry) => html`<option value="${entry.carrier}"${entry.carrier === carrier ? html` selected` : ''}>${entry.title}</option>`)}
  </select></div>
  <button type="submit" class="button">Choose</button>
</form>
<form method="post" action="/portal/carrier-accounts" class="stack">
  ${csrfField(user)}
  <input type="hidden" name="carrier" value="${carrier}">
  ${text('name', 'Name', 'How the account is shown everywhere, e.g. "Jasper (fleet A)". Unique in your tenant.')}
  ${text('baseUrl', 'Base URL', "The carrier API's address, e.g. https://api.example-carrier.com.", 'url')}
  ${
    variants.length > 0 &&
    html`<div class="field"><label for="account-variant">Variant</label>
  <select id="account-variant" name="variant">${variants.map((variant) => html`<option value="${variant}"${variant === values.variant ? html` selected` : ''}>${label(variant)}</option>`)}</select>
  <span class="hint">Which Control Center this account is on.</span></div>`
  }
  <fieldset><legend>Credentials</legend>
  <p class="hint">Stored encrypted; never shown again.</p>
  ${deps.catalog.credentialFields(carrier).map(
    ({ name, required }) =>
      html`<div class="field"><label for="account-credential-${name}">${label(name)}${required ? '' : ' (optional)'}</label>
  <input id="account-credential-${name}" name="${CREDENTIAL_PREFIX}${name}" type="${isSecret(name) ? 'password' : 'text'}" value="${isSecret(name) ? '' : (values[CREDENTIAL_PREFIX + name] ?? '')}" autocomplete="off" spellcheck="false"${required ? html` required` : ''}></div>`,
  )}
  </fieldset>
  <div class="field-checkbox"><input id="account-writes" name="writeEnabled" type="checkbox" value="true"${values.writeEnabled === 'true' ? html` checked` : ''}>
  <label for="account-writes">Enable writes now</label>
  <span class="hint">Left off, every bulk change on the account fails with WRITE_DISABLED: sync and preview first, then enable writes.</span></div>
  <div><button type="submit" class="button button-primary">Add account</button> <a href="/portal/carrier-accounts">Cancel</a></div>
</form>`,
  });
}

/** The form as the service takes an account: empty credential boxes are left out (optional ones). */
function accountInput(form: AccountForm, deps: PortalDeps) {
  const credentials = Object.fromEntries(
    deps.catalog
      .credentialFields(form.carrier)
      .map(({ name }) => [name, form[CREDENTIAL_PREFIX + name]])
      .filter(([, value]) => typeof value === 'string' && value !== ''),
  );
  return {
    name: form.name,
    carrier: form.carrier,
    baseUrl: form.baseUrl,
    credentials,
    writeEnabled: form.writeEnabled === 'true',
    settings: form.variant ? { variant: form.variant } : {},
  };
}

export function newCarrierAccountRoutes(app: PortalApp, deps: PortalDeps): void {
  app.get(
    '/carrier-accounts/new',
    { schema: { hide: true, querystring: chooseQuery } },
    async (request, reply) => {
      const user = requirePortalRole(request, 'admin');
      const carrier = request.query.carrier ?? deps.catalog.carriers()[0]?.carrier ?? 'jasper';
      return sendHtml(reply, newAccountPage({ user, deps, carrier }));
    },
  );

  app.post('/carrier-accounts', { schema: { hide: true, body: accountForm } }, async (request, reply) => {
    const user = requirePortalRole(request, 'admin');
    const form = request.body;
    const values = form as Record<string, string>;
    try {
      if (!form.name) {
        throw new AppError('VALIDATION_FAILED', 'Give the account a name', [
          { field: 'name', code: 'REQUIRED', message: 'A name is required' },
        ]);
      }
      const created = await deps.accounts.create(
        user.principal.tenantId,
        accountInput(form, deps),
        actorOf(user.principal),
      );
      return reply.redirect(`/portal/carrier-accounts#account-${created.id}`, 303);
    } catch (error) {
      if (!(error instanceof AppError) || ![409, 422].includes(error.statusCode)) throw error;
      const problems = { message: error.message, details: error.details };
      const markup = newAccountPage({ user, deps, carrier: form.carrier, values, problems });
      return sendHtml(reply, markup, error.statusCode);
    }
  });
}
