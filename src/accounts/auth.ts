import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../core/errors.ts';
import { type Principal, type Role, roleAllows } from '../core/roles.ts';
import type { ApiKeys } from './api-keys.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** `Authorization: Bearer <apiKey>`: 401 without a valid key, 403 when the role is too low (API §1). Runs
 * on `onRequest`, before the body is read, so a caller without the right is refused before validation.
 */
export function requireRole(keys: ApiKeys, role: Role) {
  return async (request: FastifyRequest, _reply: FastifyReply) => {
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const principal = match ? await keys.authenticate(match[1]) : undefined;
    if (!principal)
      throw new AppError('UNAUTHENTICATED', 'A valid API key is required (Authorization: Bearer …)');
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
