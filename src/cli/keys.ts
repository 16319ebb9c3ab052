import { accountsRepository } from '../accounts/accounts-repository.ts';
import { createApiKey, ensureTenant, listApiKeys, revokeApiKey } from '../accounts/api-keys.ts';
import { systemActor } from '../audit/actor.ts';
import type { Role } from '../core/roles.ts';
import type { Executor } from '../db/database.ts';
import { CliError } from './cli-error.ts';
import { textTable } from './text-table.ts';

/**
 * `bulkchange keys create|list|revoke`, on the database directly (the operator's tool, no API key
 * needed); answers the text to print. Arguments were checked by the caller.
 */
export async function keysCommand(
  db: Executor,
  action: string,
  options: { tenant?: string; role?: string; name?: string; id?: string },
): Promise<string> {
  if (action === 'create') {
    const tenantId = await ensureTenant(db, options.tenant!);
    const { key } = await createApiKey(db, { tenantId, role: options.role as Role, name: options.name });
    return `${key}\n`;
  }
  if (action === 'revoke') {
    const revoked = await revokeApiKey(db, undefined, options.id!, systemActor('cli'));
    if (!revoked) throw new CliError(`No API key ${options.id}`);
    return `Revoked ${revoked.id} (${revoked.name}, ${revoked.prefix}…) at ${revoked.revokedAt}\n`;
  }
  if (!options.tenant) throw new CliError('keys list needs --tenant');
  const tenant = await accountsRepository(db).findTenantByName(options.tenant);
  if (!tenant) throw new CliError(`No tenant ${options.tenant}`);
  const keys = await listApiKeys(db, tenant.id);
  const rows = keys.map((key) => [
    key.id,
    key.role,
    `${key.prefix}…`,
    key.createdAt,
    key.lastUsedAt ?? 'never',
    key.revokedAt ?? '-',
    key.name,
  ]);
  return `${textTable([['ID', 'ROLE', 'PREFIX', 'CREATED', 'LAST USED', 'REVOKED', 'NAME'], ...rows])}\n`;
}
