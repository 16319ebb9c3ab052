import type { CallbackRegistration } from '../carriers/carrier.ts';
import type { CarrierName } from '../core/change-types.ts';
import type { Executor } from '../db/database.ts';
import type { CarrierAccountTableRow } from '../db/schema.ts';

export interface CarrierAccountRow {
  id: string;
  tenantId: string;
  name: string;
  carrier: CarrierName;
  baseUrl: string;
  credentialsEncrypted: string;
  writeEnabled: boolean;
  settings: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
  inventorySyncedAt?: number | null;
  inventorySyncResult?: Record<string, unknown> | null;
  /** The last attempt to register the account's callback listener with the carrier. */
  callbackRegistration?: CallbackRegistration | null;
}

const columns = [
  'id',
  'tenant_id',
  'name',
  'carrier',
  'base_url',
  'credentials_encrypted',
  'write_enabled',
  'settings',
  'created_at',
  'updated_at',
  'inventory_synced_at',
  'inventory_sync_result',
  'callback_registered_at',
  'callback_registration',
] as const;

const toRow = (row: CarrierAccountTableRow): CarrierAccountRow => ({
  id: row.id,
  tenantId: row.tenant_id,
  name: row.name,
  carrier: row.carrier,
  baseUrl: row.base_url,
  credentialsEncrypted: row.credentials_encrypted,
  writeEnabled: Boolean(row.write_enabled),
  settings: JSON.parse(row.settings),
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  inventorySyncedAt: row.inventory_synced_at,
  inventorySyncResult: row.inventory_sync_result ? JSON.parse(row.inventory_sync_result) : null,
  callbackRegistration:
    row.callback_registered_at !== null && row.callback_registration
      ? { at: row.callback_registered_at, ...JSON.parse(row.callback_registration) }
      : null,
});

export function carrierAccountsRepository(db: Executor) {
  return {
    async list(tenantId: string): Promise<CarrierAccountRow[]> {
      const rows = await db
        .selectFrom('carrier_accounts')
        .select(columns)
        .where('tenant_id', '=', tenantId)
        .orderBy('name')
        .execute();
      return rows.map(toRow);
    },

    /** Scoped by tenant: another tenant's account is not found. */
    async find(tenantId: string, id: string): Promise<CarrierAccountRow | undefined> {
      const row = await db
        .selectFrom('carrier_accounts')
        .select(columns)
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .executeTakeFirst();
      return row && toRow(row);
    },

    /** For the engine, which works from a bulk change that is already tenant-scoped. */
    async findById(id: string): Promise<CarrierAccountRow | undefined> {
      const row = await db
        .selectFrom('carrier_accounts')
        .select(columns)
        .where('id', '=', id)
        .executeTakeFirst();
      return row && toRow(row);
    },

    async insert(account: CarrierAccountRow): Promise<void> {
      await db
        .insertInto('carrier_accounts')
        .values({
          id: account.id,
          tenant_id: account.tenantId,
          name: account.name,
          carrier: account.carrier,
          base_url: account.baseUrl,
          credentials_encrypted: account.credentialsEncrypted,
          write_enabled: account.writeEnabled ? 1 : 0,
          settings: JSON.stringify(account.settings),
          created_at: account.createdAt,
          updated_at: account.updatedAt,
        })
        .execute();
    },

    async update(
      tenantId: string,
      id: string,
      patch: Partial<
        Pick<CarrierAccountRow, 'name' | 'baseUrl' | 'credentialsEncrypted' | 'writeEnabled' | 'settings'>
      >,
    ): Promise<void> {
      await db
        .updateTable('carrier_accounts')
        .set({
          ...(patch.name !== undefined ? { name: patch.name } : {}),
          ...(patch.baseUrl !== undefined ? { base_url: patch.baseUrl } : {}),
          ...(patch.credentialsEncrypted !== undefined
            ? { credentials_encrypted: patch.credentialsEncrypted }
            : {}),
          ...(patch.writeEnabled !== undefined ? { write_enabled: patch.writeEnabled ? 1 : 0 } : {}),
          ...(patch.settings !== undefined ? { settings: JSON.stringify(patch.settings) } : {}),
          updated_at: Date.now(),
        })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .execute();
    },

    /** Not an edit of the account: its version (updated_at), and so its cached client, stay as they are. */
    async recordInventorySync(id: string, at: number, result: Record<string, unknown>): Promise<void> {
      await db
        .updateTable('carrier_accounts')
        .set({ inventory_synced_at: at, inventory_sync_result: JSON.stringify(result) })
        .where('id', '=', id)
        .execute();
    },

    /** Like the inventory sync, not an edit of the account: its client is not rebuilt. */
    async recordCallbackRegistration(id: string, registration: CallbackRegistration): Promise<void> {
      const { at, ...rest } = registration;
      await db
        .updateTable('carrier_accounts')
        .set({ callback_registered_at: at, callback_registration: JSON.stringify(rest) })
        .where('id', '=', id)
        .execute();
    },

    async listRatePlans(carrierAccountId: string) {
      return db
        .selectFrom('carrier_rate_plans')
        .select(['code', 'name', 'data_mb as dataMb', 'communication_plan as communicationPlan'])
        .where('carrier_account_id', '=', carrierAccountId)
        .orderBy('code')
        .execute();
    },

    async insertRatePlans(
      carrierAccountId: string,
      plans: Array<{
        id: string;
        code: string;
        name: string;
        dataMb: number | null;
        communicationPlan: string | null;
      }>,
    ): Promise<void> {
      if (plans.length === 0) return;
      await db
        .insertInto('carrier_rate_plans')
        .values(
          plans.map((plan) => ({
            id: plan.id,
            carrier_account_id: carrierAccountId,
            code: plan.code,
            name: plan.name,
            data_mb: plan.dataMb,
            communication_plan: plan.communicationPlan,
          })),
        )
        .execute();
    },
  };
}
