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
