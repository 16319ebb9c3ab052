import { type Capabilities, type Db, inTransaction } from '../db/database.ts';
import type { AuditEntryRow } from '../db/schema.ts';
import { chainHash, genesisHash } from './audit-chain.ts';
import { auditChainRepository } from './audit-chain-repository.ts';

const PAGE = 1_000;

/** An exported entry: its stored columns as they are (so its hash can be recomputed) and its rows. */
export type ArchivedEntry = AuditEntryRow & { rows: string[] };

export interface ChainPoint {
  seq: number;
  hash: string;
}

/** A prefix of a tenant's chain, exported and checked, ready to be cut. */
export interface ExportedPrefix {
  /** Where the chain started: the export begins here. */
  origin: ChainPoint;
  /** Its last entry: the chain's new origin once cut. */
  anchor: ChainPoint;
  entries: number;
}

/**
 * Retention for the audit log, first half (ADR 0022): hands the tenant's sealed entries older than
 * `before` (a prefix of its chain) to `write` page by page, checking each link on the way. The export
 * starts at the chain's origin and ends at the returned anchor, so it verifies on its own and joins what
 * is left. A prefix that does not verify is reported, never cut.
 */
export async function exportAuditPrefix(
  db: Db,
  capabilities: Capabilities,
  tenantId: string,
  before: number,
  write: (entries: ArchivedEntry[], origin: ChainPoint) => Promise<void>,
): Promise<ExportedPrefix | { broken: string } | undefined> {
  const chains = auditChainRepository(db, capabilities);
  const chain = await chains.chain(tenantId);
  if (!chain) return undefined;
  const last = await chains.cutLimit(tenantId, chain, before);
  if (last <= chain.originSeq) return undefined;
  const origin = { seq: chain.originSeq, hash: chain.originHash };
  let seq = chain.originSeq;
  let hash = chain.originHash;
  while (seq < last) {
    const page = (await chains.sealedAfter(tenantId, seq, PAGE)).filter((entry) => Number(entry.seq) <= last);
    if (page.length === 0) break;
    for (const entry of page) {
      const place = Number(entry.seq);
      if (place !== seq + 1 || chainHash(hash, place, entry) !== entry.hash)
        return { broken: `entry ${entry.id} (chain position ${entry.seq}) does not verify` };
      seq = place;
      hash = entry.hash;
    }
    const links = await chains.linksOf(page.map((entry) => Number(entry.id)));
    await write(
      page.map((entry) => ({ ...entry, rows: links.get(Number(entry.id)) ?? [] })),
      origin,
    );
  }
  if (seq !== last) return { broken: `the chain ends at ${seq} before ${last}` };
  return { origin, anchor: { seq, hash }, entries: seq - origin.seq };
}

/**
 * Second half, once the export is safely on disk: removes the exported entries and makes the anchor
 * the chain's origin. Does nothing when another cut has moved the origin meanwhile.
 */
export async function cutAuditPrefix(
  db: Db,
  capabilities: Capabilities,
  tenantId: string,
  prefix: ExportedPrefix,
  now = Date.now(),
): Promise<boolean> {
  return inTransaction(db, async (tx) => {
    const chains = auditChainRepository(tx, capabilities);
    const current = await chains.lockChain(tenantId, genesisHash(tenantId), now);
    if (current.originSeq !== prefix.origin.seq) return false;
    await chains.cut(tenantId, prefix.anchor, now);
    return true;
  });
}
