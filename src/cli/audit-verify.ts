import { accountsRepository } from '../accounts/accounts-repository.ts';
import { type ChainVerification, verifyChain } from '../audit/audit-verifier.ts';
import type { DatabaseHandle } from '../db/database.ts';

/** One tenant's proof as a line an operator can keep (the head is the anchor to compare next time). */
export function verificationLine(tenant: string, result: ChainVerification): string {
  const unsealed = result.unsealed > 0 ? `, ${result.unsealed} not yet sealed (not covered)` : '';
  if (result.ok) {
    return `${tenant}: ok, ${result.entries} sealed entries from #${result.origin.seq} to #${result.head.seq}${unsealed}; head ${result.head.hash}`;
  }
  const where = result.firstBrokenId
    ? `entry ${result.firstBrokenId} (chain position ${result.firstBrokenSeq})`
    : `chain position ${result.firstBrokenSeq}`;
  return `${tenant}: BROKEN at ${where}: ${result.reason}`;
}

/**
 * `bulkchange audit verify [--tenant NAME]`: recomputes each tenant's chain and prints one line per
 * tenant, with the head to keep elsewhere. Exits 0 when every chain holds, 1 when one is broken.
 */
export async function auditVerify(database: DatabaseHandle, tenantName?: string): Promise<number> {
  const tenants = (await accountsRepository(database.db).listTenants()).filter(
    (tenant) => tenantName === undefined || tenant.name === tenantName,
  );
  if (tenantName !== undefined && tenants.length === 0) {
    process.stderr.write(`No tenant named ${tenantName}\n`);
    return 2;
  }
  let broken = 0;
  for (const tenant of tenants) {
    const result = await verifyChain(database.db, database.capabilities, tenant.id);
    if (!result.ok) broken += 1;
    process.stdout.write(`${verificationLine(tenant.name, result)}\n`);
  }
  return broken > 0 ? 1 : 0;
}
