import type { Role } from '../core/roles.ts';
import type { Executor } from '../db/database.ts';

export interface TenantRow {
  id: string;
  name: string;
}

export interface ApiKeyRecord {
  id: string;
  tenantId: string;
  tenantName: string;
  name: string;
  role: Role;
  revokedAt: number | null;
}

/** A key as its tenant's admins see it: never its hash. */
export interface ApiKeyListing {
  id: string;
  tenantId: string;
  name: string;
  role: Role;
  prefix: string;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

const listingColumns = [
  'id',
  'tenant_id',
  'name',
  'role',
  'key_prefix',
  'created_at',
  'last_used_at',
  'revoked_at',
] as const;

const toListing = (row: {
  id: string;
  tenant_id: string;
  name: string;
  role: Role;
  key_prefix: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}): ApiKeyListing => ({
  id: row.id,
  tenantId: row.tenant_id,
  name: row.name,
  role: row.role,
  prefix: row.key_prefix,
  createdAt: row.created_at,
  lastUsedAt: row.last_used_at,
  revokedAt: row.revoked_at,
});

/** Tenants and API keys. */
export function accountsRepository(db: Executor) {
  return {
    async listTenants(): Promise<TenantRow[]> {
      return db.selectFrom('tenants').select(['id', 'name']).orderBy('name').execute();
    },

    async findTenantByName(name: string): Promise<TenantRow | undefined> {
      return db.selectFrom('tenants').select(['id', 'name']).where('name', '=', name).executeTakeFirst();
    },

    async insertTenant(tenant: { id: string; name: string; createdAt: number }): Promise<void> {
      await db
        .insertInto('tenants')
        .values({ id: tenant.id, name: tenant.name, created_at: tenant.createdAt })
        .execute();
    },

    async insertApiKey(key: {
      id: string;
      tenantId: string;
      name: string;
      keyHash: string;
      keyPrefix: string;
      role: Role;
      createdAt: number;
    }): Promise<void> {
      await db
        .insertInto('api_keys')
        .values({
          id: key.id,
          tenant_id: key.tenantId,
          name: key.name,
          key_hash: key.keyHash,
          key_prefix: key.keyPrefix,
          role: key.role,
          created_at: key.createdAt,
        })
        .execute();
    },

    /** A tenant's keys, oldest first (or all tenants' when `tenantId` is undefined: the CLI). */
    async listApiKeys(tenantId: string | undefined): Promise<ApiKeyListing[]> {
      let query = db.selectFrom('api_keys').select(listingColumns).orderBy('created_at').orderBy('id');
      if (tenantId !== undefined) query = query.where('tenant_id', '=', tenantId);
      return (await query.execute()).map(toListing);
    },

    async findApiKey(tenantId: string | undefined, id: string): Promise<ApiKeyListing | undefined> {
      let query = db.selectFrom('api_keys').select(listingColumns).where('id', '=', id);
      if (tenantId !== undefined) query = query.where('tenant_id', '=', tenantId);
      const row = await query.executeTakeFirst();
      return row && toListing(row);
    },

    /** Revokes a key once: a second revoke keeps the first time. */
    async revokeApiKey(id: string, at: number): Promise<void> {
      await db
        .updateTable('api_keys')
        .set({ revoked_at: at })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .execute();
    },

    async touchApiKey(id: string, at: number): Promise<void> {
      await db.updateTable('api_keys').set({ last_used_at: at }).where('id', '=', id).execute();
    },

    async findApiKeyByHash(keyHash: string): Promise<ApiKeyRecord | undefined> {
      const row = await db
        .selectFrom('api_keys')
        .innerJoin('tenants', 'tenants.id', 'api_keys.tenant_id')
        .select([
          'api_keys.id',
          'api_keys.tenant_id',
          'tenants.name as tenant_name',
          'api_keys.name',
          'api_keys.role',
          'api_keys.revoked_at',
        ])
        .where('api_keys.key_hash', '=', keyHash)
        .executeTakeFirst();
      return (
        row && {
          id: row.id,
          tenantId: row.tenant_id,
          tenantName: row.tenant_name,
          name: row.name,
          role: row.role as Role,
          revokedAt: row.revoked_at,
        }
      );
    },
  };
}
