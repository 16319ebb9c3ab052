import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../core/errors.ts';
import { type Principal, type Role, roleAllows } from '../core/roles.ts';
import type { ApiKeys } from './api-keys.ts';
import { type AttemptThrottle, attemptPrefix } from './attempt-throttle.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** What the API authenticates a request with: the keys, and the throttle on failed attempts. */
export interface KeyAuth {
  keys: ApiKeys;
  throttle: AttemptThrottle;
}

/**
 * `Authorization: Bearer <apiKey>`: 401 without a valid key, 403 when the role is too low (API §1),
 * 429 after too many failed attempts from the address (or, for a wrong key, with its prefix). Runs on `onRequest`,
 * before the body is read, so a caller without the right is refused before validation.
 */
export function requireRole(auth: KeyAuth, role: Role) {
  return async (request: FastifyRequest, _reply: FastifyReply) => {
    const header = request.headers.authorization ?? '';
    const key = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
    const prefix = attemptPrefix(key);
    await auth.throttle.admit(request);
    const principal = key ? await auth.keys.authenticate(key) : undefined;
    if (!principal) {
      await auth.throttle.failed(request, prefix);
      throw new AppError('UNAUTHENTICATED', 'A valid API key is required (Authorization: Bearer …)');
    }
    if (!roleAllows(principal.role, role)) {
      throw new AppError('FORBIDDEN', `This needs the ${role} role; the key has ${principal.role}`);
    }
    request.principal = principal;
  };
}

export const principalOf = (request: FastifyRequest): Principal => {
  if (!request.principal) throw new AppError('UNAUTHENTICATED', 'A valid API key is required');
  return request.principal;
};
