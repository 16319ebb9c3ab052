import { sql } from 'kysely';
import type { Capabilities, Executor } from '../db/database.ts';
import type { AuditChainRow, AuditEntryRow } from '../db/schema.ts';

/** A tenant's chain: its head (the last sealed entry) and its origin (where it starts after a cut). */
export interface ChainState {
  tenantId: string;
  headSeq: number;
  headHash: string;
  originSeq: number;
  originHash: string;
}

const toState = (row: AuditChainRow): ChainState => ({
  tenantId: row.tenant_id,
  headSeq: Number(row.head_seq),
  headHash: row.head_hash,
  originSeq: Number(row.origin_seq),
  originHash: row.origin_hash,
});

const SLICE = 500;

/**
 * The audit chain's storage: sealing (each entry's place and hash, set once), reading the chain back in
 * order to verify it, and cutting a sealed prefix for retention with the chain re-anchored.
 */
export function auditChainRepository(db: Executor, capabilities: Capabilities) {
  return {
    /** Tenants with entries not yet sealed. */
    async tenantsWithUnsealed(limit: number): Promise<string[]> {
      const rows = await db
        .selectFrom('audit_entries')
        .select('tenant_id')
        .distinct()
        .where('seq', 'is', null)
        .limit(limit)
        .execute();
      return rows.map((row) => row.tenant_id);
    },

    async chain(tenantId: string): Promise<ChainState | undefined> {
      const row = await db
        .selectFrom('audit_chains')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .executeTakeFirst();
      return row && toState(row);
    },

    /**
     * The tenant's chain, created at its genesis if new, locked for the caller's transaction: one sealer
     * (or retention cut) per tenant at a time, on any number of workers. Appends never take this lock.
     */
    async lockChain(tenantId: string, genesis: string, now: number): Promise<ChainState> {
      await db
        .insertInto('audit_chains')
        .values({
          tenant_id: tenantId,
          head_seq: 0,
          head_hash: genesis,
          origin_seq: 0,
          origin_hash: genesis,
          updated_at: now,
        })
        .onConflict((conflict) => conflict.column('tenant_id').doNothing())
        .execute();
      let query = db.selectFrom('audit_chains').selectAll().where('tenant_id', '=', tenantId);
      if (capabilities.rowLocks) query = query.forUpdate();
      return toState(await query.executeTakeFirstOrThrow());
    },

    /** The tenant's oldest entries not yet sealed, in id order. */
    async unsealed(tenantId: string, limit: number): Promise<AuditEntryRow[]> {
      return db
        .selectFrom('audit_entries')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('seq', 'is', null)
        .orderBy('id')
        .limit(limit)
        .execute();
    },

    async countUnsealed(tenantId: string): Promise<number> {
      const row = await db
        .selectFrom('audit_entries')
        .select((eb) => eb.fn.countAll().as('count'))
        .where('tenant_id', '=', tenantId)
        .where('seq', 'is', null)
        .executeTakeFirstOrThrow();
      return Number(row.count);
    },

    /** Gives entries their place and hash, once (an entry already sealed keeps its own), and moves the head. */
    async seal(
      tenantId: string,
      sealed: Array<{ id: number; seq: number; hash: string }>,
      now: number,
    ): Promise<void> {
      for (let start = 0; start < sealed.length; start += SLICE) {
        const records = capabilities.jsonRecords(JSON.stringify(sealed.slice(start, start + SLICE)), 'v', {
          id: 'bigint',
          seq: 'bigint',
          hash: 'text',
        });
        await sql`update audit_entries set seq = v.seq, hash = v.hash, sealed_at = ${now}
          from ${records} where audit_entries.id = v.id and audit_entries.seq is null`.execute(db);
      }
      const head = sealed.at(-1);
      if (!head) return;
      await db
        .updateTable('audit_chains')
        .set({ head_seq: head.seq, head_hash: head.hash, updated_at: now })
        .where('tenant_id', '=', tenantId)
        .execute();
    },

    /** A page of the tenant's sealed entries after `afterSeq`, in chain order. */
    async sealedAfter(tenantId: string, afterSeq: number, limit: number): Promise<AuditEntryRow[]> {
      return db
        .selectFrom('audit_entries')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('seq', '>', afterSeq)
        .orderBy('seq')
        .limit(limit)
        .execute();
    },

    /** The sealed entry at `seq`, if it is still there. */
    async atSeq(tenantId: string, seq: number): Promise<AuditEntryRow | undefined> {
      return db
        .selectFrom('audit_entries')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('seq', '=', seq)
        .executeTakeFirst();
    },

    /**
     * The last place a retention cut may reach: every sealed entry up to it is older than `before`, and
     * the first entry not older (or not sealed) comes after it.
     */
    async cutLimit(tenantId: string, chain: ChainState, before: number): Promise<number> {
      const first = await db
        .selectFrom('audit_entries')
        .select((eb) => eb.fn.min('seq').as('seq'))
        .where('tenant_id', '=', tenantId)
        .where('seq', 'is not', null)
        .where('at', '>=', before)
        .executeTakeFirst();
      const firstKept =
        first?.seq === null || first?.seq === undefined ? Number.POSITIVE_INFINITY : Number(first.seq);
      return Math.min(chain.headSeq, firstKept - 1);
    },

    /** The links of these entries to rows, by entry. */
    async linksOf(entryIds: readonly number[]): Promise<Map<number, string[]>> {
      const links = new Map<number, string[]>();
      for (let start = 0; start < entryIds.length; start += SLICE) {
        const rows = await db
          .selectFrom('audit_entry_rows')
          .select(['audit_entry_id', 'device_change_id'])
          .where('audit_entry_id', 'in', entryIds.slice(start, start + SLICE))
          .execute();
        for (const row of rows) {
          const id = Number(row.audit_entry_id);
          links.set(id, [...(links.get(id) ?? []), row.device_change_id]);
        }
      }
      return links;
    },

    /**
     * Removes the sealed entries up to `seq` (and their links) and makes the last of them the chain's new
     * origin: what is left still verifies, from an anchor the export carries too.
     */
    async cut(tenantId: string, anchor: { seq: number; hash: string }, now: number): Promise<number> {
      const doomed = (eb: Executor) =>
        eb
          .selectFrom('audit_entries')
          .select('id')
          .where('tenant_id', '=', tenantId)
          .where('seq', '<=', anchor.seq);
      await db.deleteFrom('audit_entry_rows').where('audit_entry_id', 'in', doomed(db)).execute();
      const removed = await db
        .deleteFrom('audit_entries')
        .where('tenant_id', '=', tenantId)
        .where('seq', '<=', anchor.seq)
        .executeTakeFirst();
      await db
        .updateTable('audit_chains')
        .set({ origin_seq: anchor.seq, origin_hash: anchor.hash, updated_at: now })
        .where('tenant_id', '=', tenantId)
        .execute();
      return Number(removed.numDeletedRows);
    },
  };
}
