import type { Capabilities, Executor } from '../db/database.ts';
import type { NotificationEventRow } from '../db/schema.ts';
import type { EventType, TenantEvent } from './event-types.ts';

/** An event as stored in the outbox, with its place (`seq`) in the tenant's stream. */
export interface StoredEvent {
  seq: number;
  tenantId: string;
  bulkChangeId: string | null;
  event: TenantEvent;
}

const toStored = (row: NotificationEventRow): StoredEvent => ({
  seq: Number(row.id),
  tenantId: row.tenant_id,
  bulkChangeId: row.bulk_change_id,
  event: {
    id: row.event_id,
    type: row.type as EventType,
    createdAt: new Date(row.created_at).toISOString(),
    data: JSON.parse(row.payload),
  },
});

const SLICE = 200;

/** The outbox of tenant events: written with status changes, read by the dispatcher and the live feed. */
export function eventsRepository(db: Executor) {
  return {
    async insert(
      events: ReadonlyArray<{
        eventId: string;
        tenantId: string;
        type: EventType;
        bulkChangeId: string | null;
        data: Record<string, unknown>;
        createdAt: number;
      }>,
    ): Promise<void> {
      for (let start = 0; start < events.length; start += SLICE) {
        await db
          .insertInto('notification_events')
          .values(
            events.slice(start, start + SLICE).map((event) => ({
              event_id: event.eventId,
              tenant_id: event.tenantId,
              type: event.type,
              bulk_change_id: event.bulkChangeId,
              payload: JSON.stringify(event.data),
              created_at: event.createdAt,
              dispatched_at: null,
            })),
          )
          .execute();
      }
    },

    /**
     * The tenant's events not yet dispatched, oldest first, locked for the caller's transaction where the
     * database can (two dispatchers of one tenant then take different events).
     */
    async undispatched(tenantId: string, limit: number, capabilities: Capabilities): Promise<StoredEvent[]> {
      let query = db
        .selectFrom('notification_events')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('dispatched_at', 'is', null)
        .orderBy('id')
        .limit(limit);
      if (capabilities.rowLocks) query = query.forUpdate().skipLocked();
      return (await query.execute()).map(toStored);
    },

    async markDispatched(seqs: readonly number[], at: number): Promise<void> {
      for (let start = 0; start < seqs.length; start += SLICE) {
        await db
          .updateTable('notification_events')
          .set({ dispatched_at: at })
          .where('id', 'in', seqs.slice(start, start + SLICE))
          .execute();
      }
    },

    /** The tenant's events after `afterSeq`, in seq order. */
    async after(tenantId: string, afterSeq: number, limit: number): Promise<StoredEvent[]> {
      const rows = await db
        .selectFrom('notification_events')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('id', '>', afterSeq)
        .orderBy('id')
        .limit(limit)
        .execute();
      return rows.map(toStored);
    },

    /**
     * The tenant's events in (`fromSeq`, `toSeq`] created since `since`: where one that committed after
     * a later one (a slower transaction) turns up.
     */
    async recent(
      tenantId: string,
      range: { fromSeq: number; toSeq: number; since: number; limit: number },
    ): Promise<StoredEvent[]> {
      const rows = await db
        .selectFrom('notification_events')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('id', '>', range.fromSeq)
        .where('id', '<=', range.toSeq)
        .where('created_at', '>=', range.since)
        .orderBy('id')
        .limit(range.limit)
        .execute();
      return rows.map(toStored);
    },

    /** The last event's place in the tenant's stream (where a new feed starts), or 0. */
    async lastSeq(tenantId: string): Promise<number> {
      const row = await db
        .selectFrom('notification_events')
        .select((eb) => eb.fn.max('id').as('seq'))
        .where('tenant_id', '=', tenantId)
        .executeTakeFirst();
      return Number(row?.seq ?? 0);
    },

    /** Removes events older than `before` (retention); they are not exported. */
    async prune(before: number): Promise<number> {
      const result = await db
        .deleteFrom('notification_events')
        .where('created_at', '<', before)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
