import { z } from 'zod';
import { hashApiKey } from '../../accounts/api-keys.ts';
import { userOf } from '../auth.ts';
import type { PortalApp, PortalDeps } from '../deps.ts';
import { html } from '../html.ts';
import { page, sendHtml } from '../layout.ts';
import { sessionCookie } from '../session.ts';

/** Only a portal path may follow sign-in: an open redirect would make the form a phishing tool. */
const safeNext = (next: string | undefined) =>
  next && /^\/portal\/[^/\\]/.test(next) ? next : '/portal/bulk-changes';

function signInPage(options: { next?: string; error?: string }) {
  return page({
    title: 'Sign in',
    body: html`<section class="narrow">
  <h1>Sign in</h1>
  <p>Sign in with an API key. The portal keeps a session for you; the key itself is not stored in your browser.</p>
  ${options.error && html`<div class="alert alert-error" role="alert"><p>${options.error}</p></div>`}
  <form method="post" action="/portal/sign-in" class="stack">
    <input type="hidden" name="next" value="${options.next ?? ''}">
    <label for="api-key">API key</label>
    <input id="api-key" name="apiKey" type="password" autocomplete="current-password" required autofocus
      spellcheck="false" placeholder="bck_…">
    <button type="submit" class="button button-primary">Sign in</button>
  </form>
  <p class="muted">Create a key with <code>npx bulkchange keys create --tenant T --role viewer|operator|admin</code>.</p>
</section>`,
  });
}

export function signInRoutes(app: PortalApp, deps: PortalDeps): void {
  app.get(
    '/sign-in',
    {
      config: { portalPublic: true },
      schema: { hide: true, querystring: z.object({ next: z.string().max(2000).optional() }) },
    },
    async (request, reply) => {
      if (request.portalUser) return reply.redirect(safeNext(request.query.next), 303);
      return sendHtml(reply, signInPage({ next: request.query.next }));
    },
  );

  app.post(
    '/sign-in',
    {
      config: { portalPublic: true },
      schema: {
        hide: true,
        body: z.object({ apiKey: z.string().trim().max(500), next: z.string().max(2000).optional() }),
      },
    },
    async (request, reply) => {
      const principal = await deps.apiKeys.authenticate(request.body.apiKey);
      if (!principal) {
        return sendHtml(
          reply,
          signInPage({ next: request.body.next, error: 'That API key is not valid, or it was revoked.' }),
          401,
        );
      }
      const session = deps.sessions.create(hashApiKey(request.body.apiKey));
      return reply
        .header('set-cookie', sessionCookie(session.id, { secure: request.protocol === 'https' }))
        .redirect(safeNext(request.body.next), 303);
    },
  );

  app.post('/sign-out', { schema: { hide: true } }, async (request, reply) => {
    deps.sessions.end(userOf(request).session.id);
    return reply
      .header('set-cookie', sessionCookie('', { secure: request.protocol === 'https', clear: true }))
      .redirect('/portal/sign-in', 303);
  });
}
