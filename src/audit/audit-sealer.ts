import { z } from 'zod';
import { type Capabilities, type Db, inTransaction } from '../db/database.ts';
import { defineTask } from '../queue/index.ts';
import { chainHash, genesisHash } from './audit-chain.ts';
import { auditChainRepository } from './audit-chain-repository.ts';

/** Seals the audit log every few seconds (one pending job at most; the runtime runs it periodically). */
export const auditSealTask = defineTask({
  name: 'audit.seal',
  payload: z.object({}),
  key: () => 'audit-seal',
  maxAttempts: 1_000,
});

/** Entries sealed per transaction. */
const BATCH = 1_000;
/** Tenants looked at per run; the rest wait for the next. */
const TENANTS_PER_RUN = 1_000;

/**
 * Chains the audit log (ADR 0022). Entries are appended unchained, by any number of workers at once, so
 * appending never waits on the chain; the sealer then takes each tenant's unsealed entries in id order,
 * under the tenant's chain lock, and gives each its place and `hash = sha256(previous hash, entry)`.
 * An entry committed late (a long transaction) is sealed by a later run, further along the chain: the
 * chain's order is the order of sealing, and `seq` records it.
 */
export class AuditSealer {
  readonly #db: Db;
  readonly #capabilities: Capabilities;

  constructor(db: Db, capabilities: Capabilities) {
    this.#db = db;
    this.#capabilities = capabilities;
  }

  /** Seals everything appended so far; returns how many entries it sealed. */
  async sealAll(now = Date.now()): Promise<number> {
    const tenants = await auditChainRepository(this.#db, this.#capabilities).tenantsWithUnsealed(
      TENANTS_PER_RUN,
    );
    let sealed = 0;
    for (const tenantId of tenants) {
      for (;;) {
        const count = await this.#sealBatch(tenantId, now);
        sealed += count;
        if (count < BATCH) break;
      }
    }
    return sealed;
  }

  async #sealBatch(tenantId: string, now: number): Promise<number> {
    return inTransaction(this.#db, async (tx) => {
      const chains = auditChainRepository(tx, this.#capabilities);
      const chain = await chains.lockChain(tenantId, genesisHash(tenantId), now);
      const entries = await chains.unsealed(tenantId, BATCH);
      let seq = chain.headSeq;
      let hash = chain.headHash;
      const sealed = entries.map((entry) => {
        seq += 1;
        hash = chainHash(hash, seq, entry);
        return { id: Number(entry.id), seq, hash };
      });
      await chains.seal(tenantId, sealed, now);
      return sealed.length;
    });
  }
}
