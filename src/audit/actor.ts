import type { Principal } from '../core/roles.ts';

/**
 * Who did something, as the audit log names them: a person signed in to the portal by their user id
 * (`user:<id>`, with e-mail, name and role beside it); an API key by its id (`key:<id>`: unique where
 * names are not; the portal signs in with a key too), with its name and role; or a part of the platform
 * by name (`cli`, `demo`, `engine`, `inventory_sync`, a carrier for its callbacks).
 */
export interface Actor {
  id: string;
  detail?:
    | { keyId: string; keyName: string; role: string }
    | { userId: string; email: string; name: string; role: string };
}

export const actorOf = (principal: Principal): Actor =>
  principal.user
    ? {
        id: `user:${principal.user.id}`,
        detail: {
          userId: principal.user.id,
          email: principal.user.email,
          name: principal.user.name,
          role: principal.role,
        },
      }
    : {
        id: `key:${principal.keyId}`,
        detail: { keyId: principal.keyId, keyName: principal.keyName, role: principal.role },
      };

export const systemActor = (name: string): Actor => ({ id: name });
