import type { Principal } from '../core/roles.ts';

/**
 * Who did something, as the audit log names them: an API key by its id (unique where names are not;
 * the portal signs in with a key too), with its name and role beside it; or a part of the platform by
 * name (`cli`, `demo`, `engine`, `inventory_sync`, a carrier for its callbacks).
 */
export interface Actor {
  id: string;
  detail?: { keyId: string; keyName: string; role: string };
}

export const actorOf = (principal: Principal): Actor => ({
  id: `key:${principal.keyId}`,
  detail: { keyId: principal.keyId, keyName: principal.keyName, role: principal.role },
});

export const systemActor = (name: string): Actor => ({ id: name });
