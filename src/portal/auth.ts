import type { FastifyRequest } from 'fastify';
import type { ApiKeys } from '../accounts/api-keys.ts';
import type { Users } from '../accounts/users.ts';
import { AppError } from '../core/errors.ts';
import { type Principal, type Role, roleAllows } from '../core/roles.ts';
import { csrfMatches, type PortalSession, readCookie, SESSION_COOKIE, type SessionStore } from './session.ts';

/** Who is using the portal: the principal of the API key or user, re-read on every request, and the session. */
export interface PortalUser {
  principal: Principal;
  session: PortalSession;
}

declare module 'fastify' {
  interface FastifyRequest {
    portalUser?: PortalUser;
  }
  interface FastifyContextConfig {
    /** Served without a session (sign-in, assets). */
    portalPublic?: boolean;
    /** A multipart form: its handler checks the CSRF token once the parts are read. */
    csrfInBody?: boolean;
  }
}

/**
 * The session's user, when the cookie names a live session whose API key still exists and is not
 * revoked, or whose portal user is still enabled. A revoked key or a disabled user ends its sessions at
 * their next request; a changed role (or modules) applies at once.
 */
export async function resolveUser(
  request: FastifyRequest,
  deps: { apiKeys: ApiKeys; users: Users; sessions: SessionStore },
): Promise<PortalUser | undefined> {
  const session = deps.sessions.find(readCookie(request.headers.cookie, SESSION_COOKIE));
  if (!session) return undefined;
  const { credential } = session;
  const principal =
    'userId' in credential
      ? await deps.users.principalFor(credential.userId)
      : await deps.apiKeys.principalFor(credential.keyHash);
  if (!principal) {
    deps.sessions.end(session.id);
    return undefined;
  }
  return { session, principal };
}

export const signInRequired = () => new AppError('UNAUTHENTICATED', 'Sign in to use the portal');

export function userOf(request: FastifyRequest): PortalUser {
  if (!request.portalUser) throw signInRequired();
  return request.portalUser;
}

/** The page's or action's role, enforced on the server whatever the page showed. */
export function requirePortalRole(request: FastifyRequest, role: Role): PortalUser {
  const user = userOf(request);
  if (!roleAllows(user.principal.role, role)) {
    throw new AppError(
      'FORBIDDEN',
      `This needs the ${role} role; you are signed in as ${user.principal.role}`,
    );
  }
  return user;
}

export function requireCsrf(user: PortalUser, sent: unknown): void {
  if (!csrfMatches(user.session, sent)) {
    throw new AppError('CSRF_TOKEN_INVALID', 'The form has expired; reload the page and try again');
  }
}

export const can = (user: PortalUser, role: Role) => roleAllows(user.principal.role, role);

/**
 * Whether cookies must be `Secure`: the service's public URL is https, or this request came over https
 * (directly, or through a proxy `BULKCHANGE_TRUST_PROXY` trusts to say so in `X-Forwarded-Proto`).
 */
export const secureCookies = (request: FastifyRequest, publicUrl: string | undefined): boolean =>
  publicUrl?.startsWith('https:') === true || request.protocol === 'https';
