import { z } from 'zod';
import { type Actor, actorOf } from '../audit/actor.ts';
import { auditRepository } from '../audit/audit-repository.ts';
import { auditEntryForChange, changedFields } from '../audit/change-entry.ts';
import { AppError, notFound } from '../core/errors.ts';
import { modules } from '../core/modules.ts';
import { type Principal, roles } from '../core/roles.ts';
import { type Executor, inTransaction, isUniqueViolation } from '../db/database.ts';
import { isoTime } from '../shared/answers.ts';
import { newId } from '../shared/ids.ts';
import {
  decoyPasswordHash,
  hashPassword,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
  verifyPassword,
} from './passwords.ts';
import { type UserRecord, usersRepository, writeModules } from './users-repository.ts';

const password = z
  .string()
  .min(PASSWORD_MIN_LENGTH, `A password has at least ${PASSWORD_MIN_LENGTH} characters`)
  .max(PASSWORD_MAX_LENGTH);

/** The modules a user works in: at least one; `null` (or absent on creation) is every module. */
const userModules = z.array(z.enum(modules)).min(1).max(modules.length);

const userFields = {
  email: z
    .email()
    .max(254)
    .transform((email) => email.toLowerCase()),
  name: z.string().trim().min(1).max(200),
  role: z.enum(roles),
};

/** A new user (`POST /api/v1/users`, the portal's Users page, `bulkchange users add`). */
export const newUserSchema = z.object({
  ...userFields,
  password,
  modules: userModules.nullable().default(null),
});
export type NewUser = z.infer<typeof newUserSchema>;

/** What an admin changes of a user; only what is sent changes. */
export const userPatchSchema = z.object({
  name: userFields.name.optional(),
  role: userFields.role.optional(),
  modules: userModules.nullable().optional(),
  password: password.optional(),
  disabled: z.boolean().optional(),
});
export type UserPatch = z.infer<typeof userPatchSchema>;

/** A user as admins see them: never the password or its hash. */
export const userViewSchema = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  role: z.enum(roles),
  modules: z.array(z.enum(modules)).nullable().describe('null: every module'),
  createdAt: isoTime,
  updatedAt: isoTime,
  lastSignInAt: isoTime.nullable(),
  disabledAt: isoTime.nullable(),
});
export type UserView = z.infer<typeof userViewSchema>;

const iso = (at: number | null) => (at === null ? null : new Date(at).toISOString());

export const userView = (user: UserRecord): UserView => ({
  id: user.id,
  email: user.email,
  name: user.name,
  role: user.role,
  modules: user.modules ?? null,
  createdAt: new Date(user.createdAt).toISOString(),
  updatedAt: new Date(user.updatedAt).toISOString(),
  lastSignInAt: iso(user.lastSignInAt),
  disabledAt: iso(user.disabledAt),
});

/** What the audit log keeps of a user: who they are and what they may do, never the password. */
const audited = (user: UserView) => ({
  email: user.email,
  name: user.name,
  role: user.role,
  modules: user.modules,
  disabled: user.disabledAt !== null,
});

const emailTaken = (email: string) =>
  new AppError('EMAIL_TAKEN', `A user with the e-mail address ${email} already exists`);

/** A signed-in user's principal: the names code that knows only keys reads are the user's. */
export const userPrincipal = (user: UserRecord): Principal => ({
  tenantId: user.tenantId,
  tenantName: user.tenantName,
  keyId: user.id,
  keyName: user.name,
  role: user.role,
  user: { id: user.id, email: user.email, name: user.name },
  modules: user.modules,
});

/**
 * Creates a user of the tenant (any tenant's user list when the CLI passes the id), audited with who
 * made them. The password is hashed before the transaction: a hash takes tens of milliseconds.
 */
export async function createUser(
  db: Executor,
  tenantId: string,
  input: NewUser,
  actor: Actor,
): Promise<UserView> {
  const now = Date.now();
  const id = newId(now);
  const passwordHash = await hashPassword(input.password);
  try {
    return await inTransaction(db, async (tx) => {
      const users = usersRepository(tx);
      await users.insert({
        id,
        tenantId,
        email: input.email,
        name: input.name,
        passwordHash,
        role: input.role,
        modules: writeModules(input.modules ?? undefined),
        createdAt: now,
      });
      const created = userView((await users.find(tenantId, id))!);
      await auditRepository(tx).append([
        auditEntryForChange({
          tenantId,
          actor,
          action: 'user.create',
          after: { id, ...audited(created) },
          at: now,
        }),
      ]);
      return created;
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw emailTaken(input.email);
    throw error;
  }
}

/** A tenant's users (every tenant's when `undefined`: the operator's CLI). */
export async function listUsers(db: Executor, tenantId: string | undefined): Promise<UserView[]> {
  return (await usersRepository(db).list(tenantId)).map(userView);
}

/**
 * Changes a user (of any tenant when `tenantId` is undefined: the CLI); undefined when there is no
 * such user. Disabling ends their portal sessions at their next request (sessions re-read the user).
 * One audit entry: the fields before → after, a new password as "replaced".
 */
export async function updateUser(
  db: Executor,
  tenantId: string | undefined,
  id: string,
  patch: UserPatch,
  actor: Actor,
): Promise<UserView | undefined> {
  const passwordHash = patch.password === undefined ? undefined : await hashPassword(patch.password);
  return inTransaction(db, async (tx) => {
    const users = usersRepository(tx);
    const existing = await users.find(tenantId, id);
    if (!existing) return undefined;
    const now = Date.now();
    const disabledAt =
      patch.disabled === undefined ? undefined : patch.disabled ? (existing.disabledAt ?? now) : null;
    await users.update(
      id,
      {
        name: patch.name,
        role: patch.role,
        modules: patch.modules === undefined ? undefined : writeModules(patch.modules ?? undefined),
        passwordHash,
        disabledAt,
      },
      now,
    );
    const before = userView(existing);
    const after = userView((await users.find(tenantId, id))!);
    const changed = changedFields(audited(before), audited(after));
    if (passwordHash !== undefined) {
      changed.before.password = 'previous (not recorded)';
      changed.after.password = 'replaced';
    }
    if (Object.keys(changed.after).length > 0) {
      await auditRepository(tx).append([
        auditEntryForChange({
          tenantId: existing.tenantId,
          actor,
          action: 'user.update',
          before: { id, ...changed.before },
          after: changed.after,
          at: now,
        }),
      ]);
    }
    return after;
  });
}

/** Portal users: managed by the tenant's admins, signed in by e-mail and password. */
export class Users {
  readonly #db: Executor;

  constructor(db: Executor) {
    this.#db = db;
  }

  list(tenantId: string): Promise<UserView[]> {
    return listUsers(this.#db, tenantId);
  }

  async get(tenantId: string, id: string): Promise<UserView> {
    const user = await usersRepository(this.#db).find(tenantId, id);
    if (!user) throw notFound('User');
    return userView(user);
  }

  create(tenantId: string, input: NewUser, actor: Actor): Promise<UserView> {
    return createUser(this.#db, tenantId, input, actor);
  }

  async update(tenantId: string, id: string, patch: UserPatch, actor: Actor): Promise<UserView> {
    const updated = await updateUser(this.#db, tenantId, id, patch, actor);
    if (!updated) throw notFound('User');
    return updated;
  }

  /**
   * The principal of whoever an e-mail address and password sign in as; undefined for an unknown
   * address, a wrong password or a disabled user (one answer for all three). An unknown address is
   * checked against a decoy hash, so the time taken does not tell whether it has a user. A sign-in is
   * audited as the user.
   */
  async signIn(email: string, password: string): Promise<Principal | undefined> {
    const user = await usersRepository(this.#db).findForSignIn(email.trim().toLowerCase());
    const matches = await verifyPassword(password, user?.passwordHash ?? (await decoyPasswordHash()));
    if (!user || !matches || user.disabledAt !== null) return undefined;
    const principal = userPrincipal(user);
    const now = Date.now();
    await inTransaction(this.#db, async (tx) => {
      await usersRepository(tx).touchSignIn(user.id, now);
      await auditRepository(tx).append([
        auditEntryForChange({
          tenantId: user.tenantId,
          actor: actorOf(principal),
          action: 'user.sign_in',
          at: now,
        }),
      ]);
    });
    return principal;
  }

  /** A session's user, re-read on every request: undefined once they are disabled (or gone). */
  async principalFor(userId: string): Promise<Principal | undefined> {
    const user = await usersRepository(this.#db).find(undefined, userId);
    return user && user.disabledAt === null ? userPrincipal(user) : undefined;
  }
}
