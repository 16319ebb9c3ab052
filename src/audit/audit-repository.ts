import { type Executor, inTransaction } from '../db/database.ts';
import type { AuditEntryRow, NewAuditEntryRow } from '../db/schema.ts';

/**
 * An entry to append. `rowIds` are the rows a batch call carried (or a callback woke) besides the
 * one named by `device_change_id`: each is linked to the entry, so the entry is on every row's timeline.
 */
export type NewAuditEntry = Omit<NewAuditEntryRow, 'seq' | 'hash' | 'sealed_at'> & {
  rowIds?: readonly string[];
};

/** An entry of the audit log as read back: request and response decoded. */
export interface AuditEntry {
  id: number;
  tenantId: string;
  bulkChangeId: string | null;
  deviceChangeId: string | null;
  carrierAccountId: string | null;
  at: number;
  actor: string;
  action: string;
  system: string;
  request: unknown;
  response: unknown;
  httpStatus: number | null;
  durationMs: number | null;
  outcome: string;
  /** Its place in the tenant's chain once sealed, else null. */
  seq: number | null;
  /** How many rows the entry is linked to besides its own (a batch call's), when that was asked. */
  linkedRows?: number;
}

export interface AuditFilter {
  actor?: string;
  action?: string;
  since?: number;
  bulkChangeId?: string;
  afterId?: number;
  limit: number;
}

/** Stored JSON, or the text as it is when an old entry holds something else. */
const parseJson = (text: string | null): unknown => {
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
};

const toAuditEntry = (
  row: AuditEntryRow & { linked_rows?: number | string | bigint | null },
): AuditEntry => ({
  id: Number(row.id),
  tenantId: row.tenant_id,
  bulkChangeId: row.bulk_change_id,
  deviceChangeId: row.device_change_id,
  carrierAccountId: row.carrier_account_id,
  at: row.at,
  actor: row.actor,
  action: row.action,
  system: row.system,
  request: parseJson(row.request),
  response: parseJson(row.response),
  httpStatus: row.http_status,
  durationMs: row.duration_ms,
  outcome: row.outcome,
  seq: row.seq === null ? null : Number(row.seq),
  ...(row.linked_rows !== undefined ? { linkedRows: Number(row.linked_rows ?? 0) } : {}),
});

/** Entries per insert statement, and links per insert statement (two parameters each). */
const ENTRY_SLICE = 200;
const LINK_SLICE = 2000;
const LOOKUP_SLICE = 500;

/**
 * The audit log is append-only: there is no update or delete here, by design. (Sealing sets an entry's
 * place in its chain once, and a retention cut removes a sealed prefix: `audit-chain-repository.ts`.)
 */
export function auditRepository(db: Executor) {
  return {
    /**
     * Appends entries, a few hundred per statement. Entries linked to rows are written with their
     * links in one transaction (one statement for the entries, one per few thousand links): a sealer
     * never sees an entry without its links, and a batch call costs no statement per row.
     */
    async append(entries: readonly NewAuditEntry[]): Promise<void> {
      for (let start = 0; start < entries.length; start += ENTRY_SLICE) {
        const slice = entries.slice(start, start + ENTRY_SLICE);
        const values = slice.map(({ rowIds: _links, ...entry }) => entry);
        if (!slice.some((entry) => entry.rowIds?.length)) {
          await db.insertInto('audit_entries').values(values).execute();
          continue;
        }
        await inTransaction(db, async (tx) => {
          const inserted = await tx.insertInto('audit_entries').values(values).returning('id').execute();
          // Ids are handed out in the order of the values, within one statement, on both databases.
          const ids = inserted.map((row) => Number(row.id)).sort((a, b) => a - b);
          await auditRepository(tx).link(
            slice.flatMap((entry, index) =>
              (entry.rowIds ?? []).map((rowId) => ({ auditEntryId: ids[index], rowId })),
            ),
          );
        });
      }
    },

    /** Appends one entry and its links, and returns its id (to name it elsewhere). */
    async appendOne(entry: NewAuditEntry): Promise<number> {
      const { rowIds, ...values } = entry;
      return inTransaction(db, async (tx) => {
        const inserted = await tx
          .insertInto('audit_entries')
          .values(values)
          .returning('id')
          .executeTakeFirstOrThrow();
        const id = Number(inserted.id);
        await auditRepository(tx).link((rowIds ?? []).map((rowId) => ({ auditEntryId: id, rowId })));
        return id;
      });
    },

    /** Links entries already written to more rows (a stored callback, to the row that took its result). */
    async link(links: ReadonlyArray<{ auditEntryId: number; rowId: string }>): Promise<void> {
      for (let from = 0; from < links.length; from += LINK_SLICE) {
        await db
          .insertInto('audit_entry_rows')
          .values(
            links
              .slice(from, from + LINK_SLICE)
              .map((link) => ({ audit_entry_id: link.auditEntryId, device_change_id: link.rowId })),
          )
          .onConflict((conflict) => conflict.doNothing())
          .execute();
      }
    },

    /**
     * A bulk change's entries in id order; with `changeId`, the row's: its own calls and every batch
     * call or callback linked to it (those may be filed under another bulk change of the same line).
     */
    async listForBulkChange(
      bulkChangeId: string,
      filter: { changeId?: string; afterId?: number; limit: number },
    ): Promise<AuditEntry[]> {
      let query = db
        .selectFrom('audit_entries')
        .selectAll('audit_entries')
        .select((eb) =>
          eb
            .selectFrom('audit_entry_rows')
            .select(eb.fn.countAll().as('count'))
            .whereRef('audit_entry_rows.audit_entry_id', '=', 'audit_entries.id')
            .as('linked_rows'),
        );
      const { changeId } = filter;
      // The row's own entries and its linked ones, each found by its index (an OR would scan the log).
      query = changeId
        ? query.where('id', 'in', (eb) =>
            eb
              .selectFrom('audit_entries as own')
              .select('own.id')
              .where('own.device_change_id', '=', changeId)
              .union(
                eb
                  .selectFrom('audit_entry_rows')
                  .select('audit_entry_rows.audit_entry_id as id')
                  .where('audit_entry_rows.device_change_id', '=', changeId),
              ),
          )
        : query.where('bulk_change_id', '=', bulkChangeId);
      if (filter.afterId !== undefined) query = query.where('id', '>', filter.afterId);
      const rows = await query.orderBy('id').limit(filter.limit).execute();
      return rows.map(toAuditEntry);
    },

    /** A tenant's entries, oldest first, filtered by who, what and since when. */
    async listForTenant(tenantId: string, filter: AuditFilter): Promise<AuditEntry[]> {
      let query = db.selectFrom('audit_entries').selectAll().where('tenant_id', '=', tenantId);
      if (filter.actor) query = query.where('actor', '=', filter.actor);
      if (filter.action) query = query.where('action', '=', filter.action);
      if (filter.since !== undefined) query = query.where('at', '>=', filter.since);
      if (filter.bulkChangeId) query = query.where('bulk_change_id', '=', filter.bulkChangeId);
      if (filter.afterId !== undefined) query = query.where('id', '>', filter.afterId);
      const rows = await query.orderBy('id').limit(filter.limit).execute();
      return rows.map(toAuditEntry);
    },

    async find(tenantId: string, id: number): Promise<AuditEntry | undefined> {
      const row = await db
        .selectFrom('audit_entries')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .executeTakeFirst();
      return row && toAuditEntry(row);
    },

    /** The calls each of these rows is on (its own and the batch calls that carried it), in id order. */
    async callsForRows(
      rowIds: readonly string[],
    ): Promise<Map<string, Array<{ id: number; action: string }>>> {
      const calls = new Map<string, Array<{ id: number; action: string }>>();
      const add = (rowId: string | null, id: number | string, action: string) => {
        if (rowId === null) return;
        calls.set(rowId, [...(calls.get(rowId) ?? []), { id: Number(id), action }]);
      };
      for (let start = 0; start < rowIds.length; start += LOOKUP_SLICE) {
        const slice = rowIds.slice(start, start + LOOKUP_SLICE);
        const own = await db
          .selectFrom('audit_entries')
          .select(['id', 'action', 'device_change_id'])
          .where('device_change_id', 'in', slice)
          .execute();
        for (const row of own) add(row.device_change_id, row.id, row.action);
        const linked = await db
          .selectFrom('audit_entry_rows')
          .innerJoin('audit_entries', 'audit_entries.id', 'audit_entry_rows.audit_entry_id')
          .select([
            'audit_entries.id as id',
            'audit_entries.action as action',
            'audit_entry_rows.device_change_id',
          ])
          .where('audit_entry_rows.device_change_id', 'in', slice)
          .execute();
        for (const row of linked) add(row.device_change_id, row.id, row.action);
      }
      for (const list of calls.values()) list.sort((a, b) => a.id - b.id);
      return calls;
    },
  };
}
