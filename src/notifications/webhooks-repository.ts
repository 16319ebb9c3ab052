import type { Executor } from '../db/database.ts';
import type {
  WebhookAttemptRow,
  WebhookDeliveryRow,
  WebhookDeliveryState,
  WebhookEndpointRow,
} from '../db/schema.ts';

/** A tenant's webhook endpoint; its secret stays sealed (SecretBox) until a delivery is signed. */
export interface WebhookEndpoint {
  id: string;
  tenantId: string;
  url: string;
  description: string;
  events: string[];
  secretEncrypted: string;
  enabled: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface WebhookDelivery {
  id: string;
  tenantId: string;
  endpointId: string;
  eventId: string;
  eventType: string;
  /** The exact JSON body signed and sent. */
  body: string;
  state: WebhookDeliveryState;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  firstAttemptAt: number | null;
  deliveredAt: number | null;
  createdAt: number;
  updatedAt: number;
}

export interface WebhookAttempt {
  deliveryId: string;
  at: number;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
}

const toEndpoint = (row: WebhookEndpointRow): WebhookEndpoint => ({
  id: row.id,
  tenantId: row.tenant_id,
  url: row.url,
  description: row.description,
  events: JSON.parse(row.events),
  secretEncrypted: row.secret_encrypted,
  enabled: row.enabled === 1,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

const toDelivery = (row: WebhookDeliveryRow): WebhookDelivery => ({
  id: row.id,
  tenantId: row.tenant_id,
  endpointId: row.endpoint_id,
  eventId: row.event_id,
  eventType: row.event_type,
  body: row.body,
  state: row.state,
  attempts: Number(row.attempts),
  lastStatusCode: row.last_status_code,
  lastError: row.last_error,
  firstAttemptAt: row.first_attempt_at,
  deliveredAt: row.delivered_at,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

const toAttempt = (row: WebhookAttemptRow): WebhookAttempt => ({
  deliveryId: row.delivery_id,
  at: row.at,
  statusCode: row.status_code,
  durationMs: row.duration_ms,
  error: row.error,
});

const SLICE = 500;

/** Webhook endpoints, their deliveries and each delivery's attempts; always within one tenant. */
export function webhooksRepository(db: Executor) {
  return {
    async listEndpoints(tenantId: string): Promise<WebhookEndpoint[]> {
      const rows = await db
        .selectFrom('webhook_endpoints')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .orderBy('id')
        .execute();
      return rows.map(toEndpoint);
    },

    async findEndpoint(tenantId: string, id: string): Promise<WebhookEndpoint | undefined> {
      const row = await db
        .selectFrom('webhook_endpoints')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .executeTakeFirst();
      return row && toEndpoint(row);
    },

    async insertEndpoint(endpoint: WebhookEndpoint): Promise<void> {
      await db
        .insertInto('webhook_endpoints')
        .values({
          id: endpoint.id,
          tenant_id: endpoint.tenantId,
          url: endpoint.url,
          description: endpoint.description,
          events: JSON.stringify(endpoint.events),
          secret_encrypted: endpoint.secretEncrypted,
          enabled: endpoint.enabled ? 1 : 0,
          created_at: endpoint.createdAt,
          updated_at: endpoint.updatedAt,
        })
        .execute();
    },

    async updateEndpoint(
      tenantId: string,
      id: string,
      patch: Partial<Pick<WebhookEndpoint, 'url' | 'description' | 'events' | 'enabled' | 'secretEncrypted'>>,
      at: number,
    ): Promise<void> {
      await db
        .updateTable('webhook_endpoints')
        .set({
          ...(patch.url !== undefined ? { url: patch.url } : {}),
          ...(patch.description !== undefined ? { description: patch.description } : {}),
          ...(patch.events !== undefined ? { events: JSON.stringify(patch.events) } : {}),
          ...(patch.enabled !== undefined ? { enabled: patch.enabled ? 1 : 0 } : {}),
          ...(patch.secretEncrypted !== undefined ? { secret_encrypted: patch.secretEncrypted } : {}),
          updated_at: at,
        })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .execute();
    },

    /** Removes an endpoint; its deliveries are kept (their log), and fail if they were still pending. */
    async deleteEndpoint(tenantId: string, id: string): Promise<void> {
      await db
        .deleteFrom('webhook_endpoints')
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .execute();
    },

    /**
     * New deliveries; one per (endpoint, event) however often an event is dispatched. Returns the ids
     * of those actually created.
     */
    async insertDeliveries(
      deliveries: ReadonlyArray<
        Pick<WebhookDelivery, 'id' | 'tenantId' | 'endpointId' | 'eventId' | 'eventType' | 'body'>
      >,
      at: number,
    ): Promise<string[]> {
      const created: string[] = [];
      for (let start = 0; start < deliveries.length; start += SLICE) {
        const rows = await db
          .insertInto('webhook_deliveries')
          .values(
            deliveries.slice(start, start + SLICE).map((delivery) => ({
              id: delivery.id,
              tenant_id: delivery.tenantId,
              endpoint_id: delivery.endpointId,
              event_id: delivery.eventId,
              event_type: delivery.eventType,
              body: delivery.body,
              state: 'pending' as const,
              created_at: at,
              updated_at: at,
            })),
          )
          .onConflict((conflict) => conflict.columns(['endpoint_id', 'event_id']).doNothing())
          .returning('id')
          .execute();
        created.push(...rows.map((row) => row.id));
      }
      return created;
    },

    async findDelivery(id: string): Promise<WebhookDelivery | undefined> {
      const row = await db
        .selectFrom('webhook_deliveries')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      return row && toDelivery(row);
    },

    async findTenantDelivery(
      tenantId: string,
      endpointId: string,
      id: string,
    ): Promise<WebhookDelivery | undefined> {
      const row = await db
        .selectFrom('webhook_deliveries')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('endpoint_id', '=', endpointId)
        .where('id', '=', id)
        .executeTakeFirst();
      return row && toDelivery(row);
    },

    /** An endpoint's deliveries, newest first; the cursor is the last id of the previous page. */
    async listDeliveries(
      tenantId: string,
      endpointId: string,
      filter: { beforeId?: string; limit: number },
    ): Promise<WebhookDelivery[]> {
      let query = db
        .selectFrom('webhook_deliveries')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('endpoint_id', '=', endpointId);
      if (filter.beforeId) query = query.where('id', '<', filter.beforeId);
      const rows = await query.orderBy('id', 'desc').limit(filter.limit).execute();
      return rows.map(toDelivery);
    },

    /** Each of these deliveries' attempts, oldest first. */
    async attemptsOf(deliveryIds: readonly string[]): Promise<Map<string, WebhookAttempt[]>> {
      const attempts = new Map<string, WebhookAttempt[]>();
      for (let start = 0; start < deliveryIds.length; start += SLICE) {
        const rows = await db
          .selectFrom('webhook_attempts')
          .selectAll()
          .where('delivery_id', 'in', deliveryIds.slice(start, start + SLICE))
          .orderBy('id')
          .execute();
        for (const row of rows)
          attempts.set(row.delivery_id, [...(attempts.get(row.delivery_id) ?? []), toAttempt(row)]);
      }
      return attempts;
    },

    /** One attempt's outcome: kept in the log, and on the delivery (its state, last status, count). */
    async recordAttempt(
      attempt: WebhookAttempt,
      outcome: { state: WebhookDeliveryState; firstAttemptAt: number },
    ): Promise<void> {
      await db
        .insertInto('webhook_attempts')
        .values({
          delivery_id: attempt.deliveryId,
          at: attempt.at,
          status_code: attempt.statusCode,
          duration_ms: attempt.durationMs,
          error: attempt.error,
        })
        .execute();
      await db
        .updateTable('webhook_deliveries')
        .set((eb) => ({
          state: outcome.state,
          attempts: eb('attempts', '+', 1),
          last_status_code: attempt.statusCode,
          last_error: attempt.error,
          first_attempt_at: outcome.firstAttemptAt,
          ...(outcome.state === 'delivered' ? { delivered_at: attempt.at } : {}),
          updated_at: attempt.at,
        }))
        .where('id', '=', attempt.deliveryId)
        .execute();
    },

    /** Ends a delivery without an attempt (its endpoint is gone or disabled, or its retries are spent). */
    async giveUp(id: string, reason: string, at: number): Promise<void> {
      await db
        .updateTable('webhook_deliveries')
        .set({ state: 'failed', last_error: reason, updated_at: at })
        .where('id', '=', id)
        .where('state', '=', 'pending')
        .execute();
    },

    /** Sends a delivery again: pending, with a fresh retry window; its attempts stay in the log. */
    async reopen(id: string, at: number): Promise<void> {
      await db
        .updateTable('webhook_deliveries')
        .set({ state: 'pending', first_attempt_at: null, updated_at: at })
        .where('id', '=', id)
        .execute();
    },

    /** Removes deliveries (and their attempts) created before `before` (retention). */
    async prune(before: number): Promise<number> {
      const old = db.selectFrom('webhook_deliveries').select('id').where('created_at', '<', before);
      await db.deleteFrom('webhook_attempts').where('delivery_id', 'in', old).execute();
      const result = await db
        .deleteFrom('webhook_deliveries')
        .where('created_at', '<', before)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
