import { z } from 'zod';
import type { Capabilities, Executor } from '../db/database.ts';
import { chainHash, genesisHash } from './audit-chain.ts';
import { auditChainRepository } from './audit-chain-repository.ts';

const chainPoint = z.object({ seq: z.number().int(), hash: z.string() });

/** What `audit verify` proves about one tenant's log. */
export const chainVerificationSchema = z.object({
  tenantId: z.string(),
  ok: z
    .boolean()
    .describe(
      'Every sealed entry recomputes to its hash, in an unbroken sequence from the origin to the head',
    ),
  entries: z.number().int().describe('Sealed entries checked'),
  unsealed: z.number().int().describe('Entries appended but not yet sealed: not covered by this proof'),
  origin: chainPoint.describe('Where the chain starts: the genesis, or the last entry cut by retention'),
  head: chainPoint,
  firstBrokenId: z
    .string()
    .optional()
    .describe('The first entry whose hash does not match (edited), or the entry after a gap (removed)'),
  firstBrokenSeq: z.number().int().optional(),
  reason: z.string().optional(),
});
export type ChainVerification = z.infer<typeof chainVerificationSchema>;

const PAGE = 1_000;

/**
 * Recomputes a tenant's chain from its origin (ADR 0022). An edited entry fails its own hash; a removed
 * one leaves a gap in `seq`; entries removed from the end no longer reach the recorded head. What it
 * cannot see: entries not yet sealed, and a rewrite of the whole chain after the edit by someone who can
 * also write the head. Print the head (`audit verify` does) and keep it elsewhere to close that.
 */
export async function verifyChain(
  db: Executor,
  capabilities: Capabilities,
  tenantId: string,
): Promise<ChainVerification> {
  const chains = auditChainRepository(db, capabilities);
  const genesis = genesisHash(tenantId);
  const chain = (await chains.chain(tenantId)) ?? {
    tenantId,
    headSeq: 0,
    headHash: genesis,
    originSeq: 0,
    originHash: genesis,
  };
  const unsealed = await chains.countUnsealed(tenantId);
  const result = (
    entries: number,
    broken?: { id: string | undefined; seq: number; reason: string },
  ): ChainVerification => ({
    tenantId,
    ok: broken === undefined,
    entries,
    unsealed,
    origin: { seq: chain.originSeq, hash: chain.originHash },
    head: { seq: chain.headSeq, hash: chain.headHash },
    ...(broken
      ? {
          ...(broken.id !== undefined ? { firstBrokenId: broken.id } : {}),
          firstBrokenSeq: broken.seq,
          reason: broken.reason,
        }
      : {}),
  });

  let expectedSeq = chain.originSeq + 1;
  let previous = chain.originHash;
  let checked = 0;
  for (;;) {
    const page = await chains.sealedAfter(tenantId, expectedSeq - 1, PAGE);
    for (const entry of page) {
      const seq = Number(entry.seq);
      const id = String(entry.id);
      if (seq !== expectedSeq)
        return result(checked, {
          id,
          seq,
          reason: `entries ${expectedSeq}–${seq - 1} of the chain are missing before this one`,
        });
      if (chainHash(previous, seq, entry) !== entry.hash)
        return result(checked, {
          id,
          seq,
          reason: 'the entry does not match its hash: it was changed after sealing',
        });
      previous = entry.hash;
      expectedSeq += 1;
      checked += 1;
    }
    if (page.length < PAGE) break;
  }
  const lastSeq = expectedSeq - 1;
  if (lastSeq !== chain.headSeq || previous !== chain.headHash) {
    return result(checked, {
      id: (await chains.atSeq(tenantId, lastSeq))?.id?.toString(),
      seq: lastSeq,
      reason: `the chain ends at ${lastSeq} but its recorded head is ${chain.headSeq}: entries were removed from its end, or the head was changed`,
    });
  }
  return result(checked);
}
