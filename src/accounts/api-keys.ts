import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { type Actor, systemActor } from '../audit/actor.ts';
import { auditRepository } from '../audit/audit-repository.ts';
import { auditEntryForChange } from '../audit/change-entry.ts';
import { notFound } from '../core/errors.ts';
import { type Principal, type Role, roles } from '../core/roles.ts';
import { type Executor, inTransaction } from '../db/database.ts';
import { isoTime } from '../shared/answers.ts';
import { newId } from '../shared/ids.ts';
import { type ApiKeyListing, accountsRepository } from './accounts-repository.ts';

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

/** A key's last use is written at most this often: a busy key must not cost a write per request. */
const LAST_USED_PRECISION_MS = 60_000;

/** An API key as its tenant's admins see it (`GET /api/v1/api-keys`): never the key or its hash. */
export const apiKeyViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  role: z.enum(roles),
  prefix: z.string().describe("The key's first characters, to tell keys apart"),
  createdAt: isoTime,
  lastUsedAt: isoTime.nullable(),
  revokedAt: isoTime.nullable(),
});
export type ApiKeyView = z.infer<typeof apiKeyViewSchema>;

/** A new key's answer: its view, and the key itself, shown this once. */
export const createdApiKeySchema = apiKeyViewSchema.extend({ key: z.string().describe('Shown this once') });

const iso = (at: number | null) => (at === null ? null : new Date(at).toISOString());

export const apiKeyView = (key: ApiKeyListing): ApiKeyView => ({
  id: key.id,
  name: key.name,
  role: key.role,
  prefix: key.prefix,
  createdAt: new Date(key.createdAt).toISOString(),
  lastUsedAt: iso(key.lastUsedAt),
  revokedAt: iso(key.revokedAt),
});

/** Lists the keys of a tenant, or of every tenant (`undefined`: the operator's CLI). */
export async function listApiKeys(db: Executor, tenantId: string | undefined): Promise<ApiKeyView[]> {
  return (await accountsRepository(db).listApiKeys(tenantId)).map(apiKeyView);
}

/**
 * Revokes a key of the tenant (any tenant's when `undefined`: the CLI); undefined when there is no such
 * key. It stops working at once: the API and the portal read the key on every request. Audited, in
 * the same transaction, with who revoked it.
 */
export async function revokeApiKey(
  db: Executor,
  tenantId: string | undefined,
  id: string,
  actor: Actor,
): Promise<ApiKeyView | undefined> {
  return inTransaction(db, async (tx) => {
    const repository = accountsRepository(tx);
    const before = await repository.findApiKey(tenantId, id);
    if (!before) return undefined;
    const now = Date.now();
    await repository.revokeApiKey(id, now);
    const revoked = await repository.findApiKey(tenantId, id);
    await auditRepository(tx).append([
      auditEntryForChange({
        tenantId: before.tenantId,
        actor,
        action: 'api_key.revoke',
        before: {
          id,
          name: before.name,
          role: before.role,
          prefix: before.prefix,
          revokedAt: iso(before.revokedAt),
        },
        after: { revokedAt: iso(revoked?.revokedAt ?? now) },
        at: now,
      }),
    ]);
    return revoked && apiKeyView(revoked);
  });
}

/** Who holds an API key: the API resolves it on every request, the portal on every page. */
export class ApiKeys {
  readonly #db: Executor;
  /** When each key's last use was last written, in this process. */
  readonly #lastWritten = new Map<string, number>();

  constructor(db: Executor) {
    this.#db = db;
  }

  list(tenantId: string): Promise<ApiKeyView[]> {
    return listApiKeys(this.#db, tenantId);
  }

  /** A new named key of the tenant: the view, and the key itself, shown this once. */
  async create(
    tenantId: string,
    input: { name: string; role: Role },
    actor: Actor,
  ): Promise<z.infer<typeof createdApiKeySchema>> {
    const { id, key } = await createApiKey(this.#db, { tenantId, ...input, actor });
    const created = await accountsRepository(this.#db).findApiKey(tenantId, id);
    return { ...apiKeyView(created!), key };
  }

  async revoke(tenantId: string, id: string, actor: Actor): Promise<ApiKeyView> {
    const revoked = await revokeApiKey(this.#db, tenantId, id, actor);
    if (!revoked) throw notFound('API key');
    return revoked;
  }

  /** The key's principal, or undefined for an unknown or revoked key. */
  async authenticate(key: string): Promise<Principal | undefined> {
    return key.startsWith(KEY_PREFIX) ? this.principalFor(hashApiKey(key)) : undefined;
  }

  /** The same, from the key's hash (a portal session keeps only that). */
  async principalFor(keyHash: string): Promise<Principal | undefined> {
    const record = await accountsRepository(this.#db).findApiKeyByHash(keyHash);
    if (!record || record.revokedAt !== null) return undefined;
    await this.#recordUse(record.id);
    return {
      tenantId: record.tenantId,
      tenantName: record.tenantName,
      keyId: record.id,
      keyName: record.name,
      role: record.role,
    };
  }

  /** Writes the key's last use, at most once a {@link LAST_USED_PRECISION_MS} per key and process. */
  async #recordUse(id: string, now = Date.now()): Promise<void> {
    const written = this.#lastWritten.get(id);
    if (written !== undefined && now - written < LAST_USED_PRECISION_MS) return;
    this.#lastWritten.set(id, now);
    await accountsRepository(this.#db).touchApiKey(id, now);
  }
}
