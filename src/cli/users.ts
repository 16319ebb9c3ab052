import { accountsRepository } from '../accounts/accounts-repository.ts';
import { ensureTenant } from '../accounts/api-keys.ts';
import { createUser, listUsers, newUserSchema, updateUser } from '../accounts/users.ts';
import { systemActor } from '../audit/actor.ts';
import { AppError } from '../core/errors.ts';
import type { Executor } from '../db/database.ts';
import { CliError } from './cli-error.ts';
import { textTable } from './text-table.ts';

export interface UsersCommandOptions {
  tenant?: string;
  email?: string;
  name?: string;
  role?: string;
  /** Comma-separated; absent: every module. */
  modules?: string;
  id?: string;
  /** Read from standard input by the caller: never an argument, which other users of the host can see. */
  password?: string;
}

/**
 * `bulkchange users add|list|disable|enable`, on the database directly (the operator's tool: how the
 * first user of a tenant is made); answers the text to print.
 */
export async function usersCommand(
  db: Executor,
  action: string,
  options: UsersCommandOptions,
): Promise<string> {
  const actor = systemActor('cli');
  if (action === 'add') {
    const parsed = newUserSchema.safeParse({
      email: options.email,
      name: options.name ?? options.email,
      role: options.role,
      password: options.password,
      modules: options.modules ? options.modules.split(',').map((module) => module.trim()) : null,
    });
    if (!parsed.success) {
      throw new CliError(
        parsed.error.issues
          .map((issue) => `--${issue.path.join('.') || 'input'}: ${issue.message}`)
          .join('\n'),
      );
    }
    const tenantId = await ensureTenant(db, options.tenant!);
    try {
      const user = await createUser(db, tenantId, parsed.data, actor);
      return `Added ${user.id} ${user.email} (${user.role}, modules: ${user.modules?.join(',') ?? 'all'})\n`;
    } catch (error) {
      if (error instanceof AppError) throw new CliError(error.message);
      throw error;
    }
  }
  if (action === 'disable' || action === 'enable') {
    const user = await updateUser(db, undefined, options.id!, { disabled: action === 'disable' }, actor);
    if (!user) throw new CliError(`No user ${options.id}`);
    return `${action === 'disable' ? 'Disabled' : 'Enabled'} ${user.id} (${user.email})\n`;
  }
  const tenant = await accountsRepository(db).findTenantByName(options.tenant!);
  if (!tenant) throw new CliError(`No tenant ${options.tenant}`);
  const rows = (await listUsers(db, tenant.id)).map((user) => [
    user.id,
    user.email,
    user.role,
    user.modules?.join(',') ?? 'all',
    user.lastSignInAt ?? 'never',
    user.disabledAt ? `disabled ${user.disabledAt}` : 'enabled',
    user.name,
  ]);
  return `${textTable([['ID', 'EMAIL', 'ROLE', 'MODULES', 'LAST SIGN-IN', 'STATE', 'NAME'], ...rows])}\n`;
}
