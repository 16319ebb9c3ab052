import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { hashApiKey } from '../../accounts/api-keys.ts';
import { attemptPrefix } from '../../accounts/attempt-throttle.ts';
import { secureCookies, userOf } from '../auth.ts';
import type { PortalApp, PortalDeps } from '../deps.ts';
import { html } from '../html.ts';
import { page, sendHtml } from '../layout.ts';
import { cookie, randomToken, readCookie, sameToken, sessionCookie } from '../session.ts';

/** Only a portal path may follow sign-in: an open redirect would make the form a phishing tool. */
const safeNext = (next: string | undefined) =>
  next && /^\/portal\/[^/\\]/.test(next) ? next : '/portal/overview';

/**
 * The sign-in form's own CSRF token (login CSRF: another site must not sign a browser in with the
 * attacker's key). Double submit: the token is in a cookie only this path receives, SameSite=Strict so
 * no other site's form sends it, and in the form; the two must match. Nothing is kept on the server
 * for a visitor who has not signed in.
 */
const SIGN_IN_COOKIE = 'bulkchange_sign_in';
const SIGN_IN_TOKEN_SECONDS = 60 * 60;

function signInPage(options: { next?: string; error?: string; token: string }) {
  return page({
    title: 'Sign in',
    body: html`<section class="narrow">
  <h1>Sign in</h1>
  <p>Sign in with an API key. The portal keeps a session for you; the key itself is not stored in your browser.</p>
  ${options.error && html`<div class="alert alert-error" role="alert"><p>${options.error}</p></div>`}
  <form method="post" action="/portal/sign-in" class="stack">
    <input type="hidden" name="next" value="${options.next ?? ''}">
    <input type="hidden" name="_csrf" value="${options.token}">
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
  /** The sign-in page with a fresh token, in its cookie and in the form. */
  const sendSignIn = (
    request: FastifyRequest,
    reply: FastifyReply,
    options: { next?: string; error?: string },
    status = 200,
  ) => {
    const token = randomToken();
    reply.header(
      'set-cookie',
      cookie(SIGN_IN_COOKIE, token, {
        path: '/portal/sign-in',
        secure: secureCookies(request, deps.publicUrl),
        maxAgeSeconds: SIGN_IN_TOKEN_SECONDS,
      }),
    );
    return sendHtml(reply, signInPage({ ...options, token }), status);
  };

  app.get(
    '/sign-in',
    {
      config: { portalPublic: true },
      schema: { hide: true, querystring: z.object({ next: z.string().max(2000).optional() }) },
    },
    async (request, reply) => {
      if (request.portalUser) return reply.redirect(safeNext(request.query.next), 303);
      return sendSignIn(request, reply, { next: request.query.next });
    },
  );

  app.post(
    '/sign-in',
    {
      config: { portalPublic: true },
      schema: {
        hide: true,
        body: z.object({
          apiKey: z.string().trim().max(500),
          next: z.string().max(2000).optional(),
          _csrf: z.string().max(200).optional(),
        }),
      },
    },
    async (request, reply) => {
      const { apiKey, next, _csrf } = request.body;
      if (!sameToken(readCookie(request.headers.cookie, SIGN_IN_COOKIE), _csrf)) {
        const error = 'The sign-in form has expired or came from another site. Sign in again.';
        return sendSignIn(request, reply, { next, error }, 403);
      }
      await deps.throttle.admit(request);
      const principal = await deps.apiKeys.authenticate(apiKey);
      if (!principal) {
        await deps.throttle.failed(request, attemptPrefix(apiKey));
        return sendSignIn(
          request,
          reply,
          { next, error: 'That API key is not valid, or it was revoked.' },
          401,
        );
      }
      const secure = secureCookies(request, deps.publicUrl);
      const session = deps.sessions.create(hashApiKey(apiKey));
      return reply
        .header('set-cookie', [
          sessionCookie(session.id, { secure, maxAgeMs: deps.sessionLimits.maxAgeMs }),
          cookie(SIGN_IN_COOKIE, '', { path: '/portal/sign-in', secure, maxAgeSeconds: 0 }),
        ])
        .redirect(safeNext(next), 303);
    },
  );

  app.post('/sign-out', { schema: { hide: true } }, async (request, reply) => {
    deps.sessions.end(userOf(request).session.id);
    const secure = secureCookies(request, deps.publicUrl);
    return reply
      .header('set-cookie', sessionCookie('', { secure, clear: true, maxAgeMs: 0 }))
      .redirect('/portal/sign-in', 303);
  });
}
