import type { Site } from '../core/site.ts';
import type { Executor } from '../db/database.ts';
import type { SiteRow, SiteTable } from '../db/schema.ts';

/** A site as stored: the core shape, the tenant it belongs to and when it changed. */
export interface StoredSite extends Site {
  tenantId: string;
  createdAt: number;
  updatedAt: number;
}

/** The fields a site is created or edited with. */
export type SiteInput = Omit<Site, 'id'>;

const toSite = (row: SiteRow): StoredSite => ({
  id: row.id,
  tenantId: row.tenant_id,
  name: row.name,
  contactFirstName: row.contact_first_name,
  contactLastName: row.contact_last_name,
  addressLine1: row.address_line1,
  addressLine2: row.address_line2,
  city: row.city,
  state: row.state,
  zipCode: row.zip_code,
  country: row.country,
  isDefault: row.is_default === 1,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

const columns = (input: Partial<SiteInput>): Partial<SiteTable> => {
  const set: Partial<SiteTable> = {};
  if (input.name !== undefined) set.name = input.name;
  if (input.contactFirstName !== undefined) set.contact_first_name = input.contactFirstName;
  if (input.contactLastName !== undefined) set.contact_last_name = input.contactLastName;
  if (input.addressLine1 !== undefined) set.address_line1 = input.addressLine1;
  if (input.addressLine2 !== undefined) set.address_line2 = input.addressLine2;
  if (input.city !== undefined) set.city = input.city;
  if (input.state !== undefined) set.state = input.state;
  if (input.zipCode !== undefined) set.zip_code = input.zipCode;
  if (input.country !== undefined) set.country = input.country;
  if (input.isDefault !== undefined) set.is_default = input.isDefault ? 1 : 0;
  return set;
};

export function sitesRepository(db: Executor) {
  return {
    async list(tenantId: string): Promise<StoredSite[]> {
      const rows = await db
        .selectFrom('sites')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .orderBy('name')
        .execute();
      return rows.map(toSite);
    },

    async find(tenantId: string, id: string): Promise<StoredSite | undefined> {
      const row = await db
        .selectFrom('sites')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .executeTakeFirst();
      return row && toSite(row);
    },

    async findByName(tenantId: string, name: string): Promise<StoredSite | undefined> {
      const row = await db
        .selectFrom('sites')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('name', '=', name)
        .executeTakeFirst();
      return row && toSite(row);
    },

    async findDefault(tenantId: string): Promise<StoredSite | undefined> {
      const row = await db
        .selectFrom('sites')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('is_default', '=', 1)
        .executeTakeFirst();
      return row && toSite(row);
    },

    async insert(site: StoredSite): Promise<void> {
      await db
        .insertInto('sites')
        .values({
          id: site.id,
          tenant_id: site.tenantId,
          created_at: site.createdAt,
          updated_at: site.updatedAt,
          ...(columns(site) as Omit<SiteTable, 'id' | 'tenant_id' | 'created_at' | 'updated_at'>),
        })
        .execute();
    },

    async update(tenantId: string, id: string, patch: Partial<SiteInput>, at: number): Promise<void> {
      await db
        .updateTable('sites')
        .set({ ...columns(patch), updated_at: at })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .execute();
    },

    /** One default per tenant: the others stop being it. */
    async clearDefault(tenantId: string, exceptId: string, at: number): Promise<void> {
      await db
        .updateTable('sites')
        .set({ is_default: 0, updated_at: at })
        .where('tenant_id', '=', tenantId)
        .where('is_default', '=', 1)
        .where('id', '!=', exceptId)
        .execute();
    },

    async delete(tenantId: string, id: string): Promise<void> {
      await db.deleteFrom('sites').where('tenant_id', '=', tenantId).where('id', '=', id).execute();
    },

    async linesAt(tenantId: string, id: string): Promise<number> {
      const row = await db
        .selectFrom('devices')
        .select((eb) => eb.fn.countAll<number>().as('count'))
        .where('tenant_id', '=', tenantId)
        .where('site_id', '=', id)
        .executeTakeFirstOrThrow();
      return Number(row.count);
    },
  };
}
