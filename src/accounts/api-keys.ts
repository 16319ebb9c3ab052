import { createHash, randomBytes } from 'node:crypto';
import { type Actor, systemActor } from '../audit/actor.ts';
import { auditRepository } from '../audit/audit-repository.ts';
import { auditEntryForChange } from '../audit/change-entry.ts';
import type { Principal, Role } from '../core/roles.ts';
import { type Executor, inTransaction } from '../db/database.ts';
import { newId } from '../shared/ids.ts';
import { accountsRepository } from './accounts-repository.ts';

const KEY_PREFIX = 'bck_';

/** API keys are 256-bit random tokens, so a fast hash is enough: nothing to brute-force. */
export const hashApiKey = (key: string) => createHash('sha256').update(key).digest('hex');

export async function ensureTenant(db: Executor, name: string): Promise<string> {
  const repository = accountsRepository(db);
  const existing = await repository.findTenantByName(name);
  if (existing) return existing.id;
  const id = newId();
  await repository.insertTenant({ id, name, createdAt: Date.now() });
  return id;
}

/**
 * Creates a key and returns its only plaintext copy; the database keeps the hash. Audited with who made
 * it (the CLI, the demo, or a key), never with the key itself.
 */
export async function createApiKey(
  db: Executor,
  options: { tenantId: string; role: Role; name?: string; actor?: Actor },
): Promise<{ id: string; key: string }> {
  const key = KEY_PREFIX + randomBytes(32).toString('base64url');
  const id = newId();
  const now = Date.now();
  const record = {
    id,
    tenantId: options.tenantId,
    name: options.name ?? `${options.role} key`,
    keyHash: hashApiKey(key),
    keyPrefix: key.slice(0, 10),
    role: options.role,
    createdAt: now,
  };
  await inTransaction(db, async (tx) => {
    await accountsRepository(tx).insertApiKey(record);
    await auditRepository(tx).append([
      auditEntryForChange({
        tenantId: options.tenantId,
        actor: options.actor ?? systemActor('cli'),
        action: 'api_key.create',
        after: { id, name: record.name, role: record.role, prefix: record.keyPrefix },
        at: now,
      }),
    ]);
  });
  return { id, key };
}

/** Who holds an API key: the API resolves it on every request, the portal on every page. */
export class ApiKeys {
  readonly #db: Executor;

  constructor(db: Executor) {
    this.#db = db;
  }

  /** The key's principal, or undefined for an unknown or revoked key. */
  async authenticate(key: string): Promise<Principal | undefined> {
    return key.startsWith(KEY_PREFIX) ? this.principalFor(hashApiKey(key)) : undefined;
  }

  /** The same, from the key's hash (a portal session keeps only that). */
  async principalFor(keyHash: string): Promise<Principal | undefined> {
    const record = await accountsRepository(this.#db).findApiKeyByHash(keyHash);
    if (!record || record.revokedAt !== null) return undefined;
    return {
      tenantId: record.tenantId,
      tenantName: record.tenantName,
      keyId: record.id,
      keyName: record.name,
      role: record.role,
    };
  }
}
