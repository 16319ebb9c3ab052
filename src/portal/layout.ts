import type { FastifyReply } from 'fastify';
import { roleAllows } from '../core/roles.ts';
import { assetUrl } from './assets.ts';
import type { PortalUser } from './auth.ts';
import { csrfField } from './components/forms.ts';
import { html, type SafeHtml } from './html.ts';

export type Section =
  | 'overview'
  | 'bulk-changes'
  | 'new'
  | 'devices'
  | 'carrier-accounts'
  | 'webhooks'
  | 'guardrails'
  | 'reconciliations'
  | 'sites'
  | 'users'
  | 'api-keys'
  | 'none';

const navigation = [
  { section: 'overview', href: '/portal/overview', label: 'Overview', role: 'viewer' },
  { section: 'bulk-changes', href: '/portal/bulk-changes', label: 'Bulk changes', role: 'viewer' },
  { section: 'new', href: '/portal/bulk-changes/new', label: 'New bulk change', role: 'operator' },
  { section: 'devices', href: '/portal/devices', label: 'Devices', role: 'viewer' },
  { section: 'reconciliations', href: '/portal/reconciliations', label: 'Reconciliation', role: 'viewer' },
  { section: 'sites', href: '/portal/sites', label: 'Sites', role: 'viewer' },
  { section: 'carrier-accounts', href: '/portal/carrier-accounts', label: 'Carrier accounts', role: 'admin' },
  { section: 'webhooks', href: '/portal/webhooks', label: 'Webhooks', role: 'admin' },
  { section: 'guardrails', href: '/portal/guardrails', label: 'Guardrails', role: 'admin' },
  { section: 'users', href: '/portal/users', label: 'Users', role: 'admin' },
  { section: 'api-keys', href: '/portal/api-keys', label: 'API keys', role: 'admin' },
] as const;

/** Links the user's role may follow only: a viewer is not shown what would be refused. */
function nav(user: PortalUser, current: Section): SafeHtml {
  const links = navigation.filter((item) => roleAllows(user.principal.role, item.role));
  return html`<nav class="site-nav" aria-label="Main">
  <ul>${links.map(
    (item) =>
      html`<li><a href="${item.href}"${item.section === current ? html` aria-current="page"` : ''}>${item.label}</a></li>`,
  )}</ul>
</nav>`;
}

function account(user: PortalUser): SafeHtml {
  const { principal } = user;
  return html`<div class="who">
  <span><strong>${principal.keyName}</strong> · ${principal.role} · ${principal.tenantName}</span>
  <form method="post" action="/portal/sign-out" class="inline-form">
    ${csrfField(user)}
    <button type="submit" class="button button-plain">Sign out</button>
  </form>
</div>`;
}

/** Every portal page: the same head, header and landmarks, so keyboard and screen-reader use is uniform. */
export function page(options: {
  title: string;
  user?: PortalUser;
  section?: Section;
  body: SafeHtml;
}): SafeHtml {
  const { user } = options;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · bulkchange</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${assetUrl('portal.css')}">
<script src="${assetUrl('portal.js')}" defer></script>
</head>
<body>
<a class="skip-link" href="#main">Skip to content</a>
<header class="site-header">
  <a class="brand" href="/portal/overview">bulkchange</a>
  ${user && nav(user, options.section ?? 'none')}
  ${user && account(user)}
</header>
<main id="main" tabindex="-1">
${options.body}
</main>
</body>
</html>`;
}

export const sendHtml = (reply: FastifyReply, markup: SafeHtml, status = 200) =>
  reply.status(status).type('text/html; charset=utf-8').send(markup.value);
