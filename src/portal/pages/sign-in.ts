import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { hashApiKey } from '../../accounts/api-keys.ts';
import { attemptPrefix } from '../../accounts/attempt-throttle.ts';
import { PASSWORD_MAX_LENGTH } from '../../accounts/passwords.ts';
import { roles } from '../../core/roles.ts';
import { secureCookies, userOf } from '../auth.ts';
import type { PortalApp, PortalDeps } from '../deps.ts';
import { html } from '../html.ts';
import { page, sendHtml } from '../layout.ts';
import {
  cookie,
  randomToken,
  readCookie,
  type SessionCredential,
  sameToken,
  sessionCookie,
} from '../session.ts';

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
const formExpired = 'The sign-in form has expired or came from another site. Sign in again.';

function signInPage(options: { next?: string; error?: string; token: string }) {
  const hidden = html`<input type="hidden" name="next" value="${options.next ?? ''}">
    <input type="hidden" name="_csrf" value="${options.token}">`;
  return page({
    title: 'Sign in',
    body: html`<section class="narrow">
  <h1>Sign in</h1>
  ${options.error && html`<div class="alert alert-error" role="alert"><p>${options.error}</p></div>`}
  <form method="post" action="/portal/sign-in/password" class="stack">
    <h2>With your e-mail address</h2>
    ${hidden}
    <label for="email">E-mail address</label>
    <input id="email" name="email" type="email" autocomplete="username" required autofocus spellcheck="false">
    <label for="password">Password</label>
    <input id="password" name="password" type="password" autocomplete="current-password" required>
    <button type="submit" class="button button-primary">Log in</button>
  </form>
  <form method="post" action="/portal/sign-in" class="stack">
    <h2>With an API key</h2>
    <p>The portal keeps a session for you; the key itself is not stored in your browser.</p>
    ${hidden}
    <label for="api-key">API key</label>
    <input id="api-key" name="apiKey" type="password" autocomplete="off" required
      spellcheck="false" placeholder="bck_…">
    <button type="submit" class="button button-primary">Sign in</button>
  </form>
  <p class="muted">An admin adds users (Users page, or <code>npx bulkchange users add</code>); keys come from <code>npx bulkchange keys create --tenant T --role ${roles.join('|')}</code>.</p>
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

  /** A new session for whoever signed in, and on to where they were going. */
  const startSession = (
    request: FastifyRequest,
    reply: FastifyReply,
    credential: SessionCredential,
    next: string | undefined,
  ) => {
    const secure = secureCookies(request, deps.publicUrl);
    const session = deps.sessions.create(credential);
    return reply
      .header('set-cookie', [
        sessionCookie(session.id, { secure, maxAgeMs: deps.sessionLimits.maxAgeMs }),
        cookie(SIGN_IN_COOKIE, '', { path: '/portal/sign-in', secure, maxAgeSeconds: 0 }),
      ])
      .redirect(safeNext(next), 303);
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
        return sendSignIn(request, reply, { next, error: formExpired }, 403);
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
      return startSession(request, reply, { keyHash: hashApiKey(apiKey) }, next);
    },
  );

  app.post(
    '/sign-in/password',
    {
      config: { portalPublic: true },
      schema: {
        hide: true,
        body: z.object({
          email: z.string().trim().max(254),
          password: z.string().max(PASSWORD_MAX_LENGTH),
          next: z.string().max(2000).optional(),
          _csrf: z.string().max(200).optional(),
        }),
      },
    },
    async (request, reply) => {
      const { email, password, next, _csrf } = request.body;
      if (!sameToken(readCookie(request.headers.cookie, SIGN_IN_COOKIE), _csrf)) {
        return sendSignIn(request, reply, { next, error: formExpired }, 403);
      }
      // Counted per address and per account: a password can be guessed where a key cannot.
      const account = `user:${email.toLowerCase()}`;
      await deps.throttle.admit(request, account);
      const principal = await deps.users.signIn(email, password);
      if (!principal?.user) {
        await deps.throttle.failed(request, account);
        const error = 'That e-mail address and password do not match an enabled user.';
        return sendSignIn(request, reply, { next, error }, 401);
      }
      return startSession(request, reply, { userId: principal.user.id }, next);
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
