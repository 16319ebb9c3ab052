import { createHash } from 'node:crypto';

/** The stored columns of an entry that its hash covers, exactly as stored (request and response as text). */
export interface ChainedEntry {
  id: number;
  tenant_id: string;
  bulk_change_id: string | null;
  device_change_id: string | null;
  carrier_account_id: string | null;
  at: number;
  actor: string;
  action: string;
  system: string;
  request: string | null;
  response: string | null;
  http_status: number | null;
  duration_ms: number | null;
  outcome: string;
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** Where a tenant's chain starts: bound to the tenant, so one tenant's entries cannot pass for another's. */
export const genesisHash = (tenantId: string): string => sha256(`bulkchange audit chain\n${tenantId}`);

/**
 * An entry as the bytes its hash is taken over: its place in the chain and every stored column, in a
 * fixed order, as a JSON array (no key order to argue about, no number formatting left to chance).
 */
export function canonicalEntry(seq: number, entry: ChainedEntry): string {
  return JSON.stringify([
    seq,
    Number(entry.id),
    entry.tenant_id,
    entry.bulk_change_id,
    entry.device_change_id,
    entry.carrier_account_id,
    Number(entry.at),
    entry.actor,
    entry.action,
    entry.system,
    entry.request,
    entry.response,
    entry.http_status === null ? null : Number(entry.http_status),
    entry.duration_ms === null ? null : Number(entry.duration_ms),
    entry.outcome,
  ]);
}

/** `sha256(previous hash, canonical entry)`: changing, removing or reordering an entry breaks every later link. */
export const chainHash = (previousHash: string, seq: number, entry: ChainedEntry): string =>
  sha256(`${previousHash}\n${canonicalEntry(seq, entry)}`);
