import { createHash, randomBytes } from 'node:crypto';
import type { Executor } from '../db/database.ts';
import { newId } from '../shared/ids.ts';
import { accountsRepository } from './accounts-repository.ts';
import type { Principal, Role } from './roles.ts';

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

/** Creates a key and returns its only plaintext copy; the database keeps the hash. */
export async function createApiKey(
  db: Executor,
  options: { tenantId: string; role: Role; name?: string },
): Promise<{ id: string; key: string }> {
  const key = KEY_PREFIX + randomBytes(32).toString('base64url');
  const id = newId();
  await accountsRepository(db).insertApiKey({
    id,
    tenantId: options.tenantId,
    name: options.name ?? `${options.role} key`,
    keyHash: hashApiKey(key),
    keyPrefix: key.slice(0, 10),
    role: options.role,
    createdAt: Date.now(),
  });
  return { id, key };
}

export async function authenticateApiKey(db: Executor, key: string): Promise<Principal | undefined> {
  if (!key.startsWith(KEY_PREFIX)) return undefined;
  const record = await accountsRepository(db).findApiKeyByHash(hashApiKey(key));
  if (!record || record.revokedAt !== null) return undefined;
  return {
    tenantId: record.tenantId,
    tenantName: record.tenantName,
    keyId: record.id,
    keyName: record.name,
    role: record.role,
  };
}
