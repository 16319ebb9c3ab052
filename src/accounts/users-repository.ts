import { modules as allModules, type Module } from '../core/modules.ts';
import type { Role } from '../core/roles.ts';
import type { Executor } from '../db/database.ts';
import type { UserTable } from '../db/schema.ts';

/** A portal user as stored, with their tenant's name; the password hash only where sign-in needs it. */
export interface UserRecord {
  id: string;
  tenantId: string;
  tenantName: string;
  email: string;
  name: string;
  role: Role;
  /** Undefined: every module. */
  modules: Module[] | undefined;
  createdAt: number;
  updatedAt: number;
  lastSignInAt: number | null;
  disabledAt: number | null;
}

const userColumns = [
  'users.id',
  'users.tenant_id',
  'tenants.name as tenant_name',
  'users.email',
  'users.name',
  'users.role',
  'users.modules',
  'users.created_at',
  'users.updated_at',
  'users.last_sign_in_at',
  'users.disabled_at',
] as const;

const readModules = (stored: string | null): Module[] | undefined =>
  stored === null ? undefined : allModules.filter((module) => stored.split(',').includes(module));

export const writeModules = (modules: readonly Module[] | undefined): string | null =>
  modules === undefined ? null : allModules.filter((module) => modules.includes(module)).join(',');

const toRecord = (
  row: Omit<UserTable, 'password_hash' | 'tenant_id'> & { tenant_id: string; tenant_name: string },
): UserRecord => ({
  id: row.id,
  tenantId: row.tenant_id,
  tenantName: row.tenant_name,
  email: row.email,
  name: row.name,
  role: row.role,
  modules: readModules(row.modules),
  createdAt: Number(row.created_at),
  updatedAt: Number(row.updated_at),
  lastSignInAt: row.last_sign_in_at === null ? null : Number(row.last_sign_in_at),
  disabledAt: row.disabled_at === null ? null : Number(row.disabled_at),
});

/** What an update may change; undefined leaves a field as it is (`modules: null`: every module). */
export interface UserChanges {
  name?: string;
  role?: Role;
  modules?: string | null;
  passwordHash?: string;
  disabledAt?: number | null;
}

/** Portal users. */
export function usersRepository(db: Executor) {
  const select = () =>
    db.selectFrom('users').innerJoin('tenants', 'tenants.id', 'users.tenant_id').select(userColumns);

  return {
    async insert(user: {
      id: string;
      tenantId: string;
      email: string;
      name: string;
      passwordHash: string;
      role: Role;
      modules: string | null;
      createdAt: number;
    }): Promise<void> {
      await db
        .insertInto('users')
        .values({
          id: user.id,
          tenant_id: user.tenantId,
          email: user.email,
          name: user.name,
          password_hash: user.passwordHash,
          role: user.role,
          modules: user.modules,
          created_at: user.createdAt,
          updated_at: user.createdAt,
        })
        .execute();
    },

    /** A tenant's users, oldest first (every tenant's when `tenantId` is undefined: the CLI). */
    async list(tenantId: string | undefined): Promise<UserRecord[]> {
      let query = select().orderBy('users.created_at').orderBy('users.id');
      if (tenantId !== undefined) query = query.where('users.tenant_id', '=', tenantId);
      return (await query.execute()).map(toRecord);
    },

    async find(tenantId: string | undefined, id: string): Promise<UserRecord | undefined> {
      let query = select().where('users.id', '=', id);
      if (tenantId !== undefined) query = query.where('users.tenant_id', '=', tenantId);
      const row = await query.executeTakeFirst();
      return row && toRecord(row);
    },

    /** The user an address signs in as, with the password hash to check. */
    async findForSignIn(email: string): Promise<(UserRecord & { passwordHash: string }) | undefined> {
      const row = await select()
        .select('users.password_hash')
        .where('users.email', '=', email)
        .executeTakeFirst();
      return row && { ...toRecord(row), passwordHash: row.password_hash };
    },

    async update(id: string, changes: UserChanges, at: number): Promise<void> {
      await db
        .updateTable('users')
        .set({
          name: changes.name,
          role: changes.role,
          modules: changes.modules,
          password_hash: changes.passwordHash,
          disabled_at: changes.disabledAt,
          updated_at: at,
        })
        .where('id', '=', id)
        .execute();
    },

    async touchSignIn(id: string, at: number): Promise<void> {
      await db.updateTable('users').set({ last_sign_in_at: at }).where('id', '=', id).execute();
    },
  };
}
