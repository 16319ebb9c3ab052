import { z } from 'zod';
import type { SecretBox } from '../accounts/secret-box.ts';
import type { Actor } from '../audit/actor.ts';
import { auditRepository } from '../audit/audit-repository.ts';
import { auditEntryForChange, changedFields } from '../audit/change-entry.ts';
import { type EventType, eventTypes, type TenantEvent } from '../bulk-changes/event-types.ts';
import type { Enqueue } from '../bulk-changes/jobs.ts';
import { AppError, notFound, validationFailed } from '../core/errors.ts';
import { type Db, inTransaction, type Tx } from '../db/database.ts';
import { webhookDeliveryStates } from '../db/schema.ts';
import { isoTime } from '../shared/answers.ts';
import { newId } from '../shared/ids.ts';
import { page } from '../shared/paging.ts';
import { toIso } from '../shared/time.ts';
import { deliverWebhookTask } from './tasks.ts';
import { newWebhookSecret } from './webhook-signature.ts';
import type { WebhookTargets } from './webhook-targets.ts';
import {
  type WebhookAttempt,
  type WebhookDelivery,
  type WebhookEndpoint,
  webhooksRepository,
} from './webhooks-repository.ts';

/** An endpoint as the API shows it: never its secret. */
export const endpointViewSchema = z.object({
  id: z.string(),
  url: z.string(),
  description: z.string(),
  events: z.array(z.string()).describe('The event types it is sent (docs/webhooks.md)'),
  enabled: z.boolean(),
  createdAt: isoTime,
  updatedAt: isoTime,
});
export type WebhookEndpointView = z.infer<typeof endpointViewSchema>;

/** An endpoint with its signing secret: the answer of its creation and of a rotation, shown this once. */
export const endpointWithSecretSchema = endpointViewSchema.extend({
  secret: z.string().describe('The signing secret, shown this once'),
});

export const endpointView = (endpoint: WebhookEndpoint): WebhookEndpointView => ({
  id: endpoint.id,
  url: endpoint.url,
  description: endpoint.description,
  events: endpoint.events,
  enabled: endpoint.enabled,
  createdAt: toIso(endpoint.createdAt)!,
  updatedAt: toIso(endpoint.updatedAt)!,
});

/** A delivery and its attempts (the delivery log). */
export const deliveryViewSchema = z.object({
  id: z.string(),
  eventId: z.string(),
  eventType: z.string().describe('An event type of docs/webhooks.md, or webhook.test'),
  state: z.enum(webhookDeliveryStates),
  attempts: z.array(
    z.object({
      at: isoTime,
      statusCode: z.number().int().nullable(),
      durationMs: z.number(),
      error: z.string().nullable(),
    }),
  ),
  lastStatusCode: z.number().int().nullable(),
  lastError: z.string().nullable(),
  createdAt: isoTime,
  deliveredAt: isoTime.nullable(),
});
export type WebhookDeliveryView = z.infer<typeof deliveryViewSchema>;

export const deliveryView = (delivery: WebhookDelivery, attempts: WebhookAttempt[]): WebhookDeliveryView => ({
  id: delivery.id,
  eventId: delivery.eventId,
  eventType: delivery.eventType,
  state: delivery.state,
  attempts: attempts.map((attempt) => ({
    at: toIso(attempt.at)!,
    statusCode: attempt.statusCode,
    durationMs: attempt.durationMs,
    error: attempt.error,
  })),
  lastStatusCode: delivery.lastStatusCode,
  lastError: delivery.lastError,
  createdAt: toIso(delivery.createdAt)!,
  deliveredAt: toIso(delivery.deliveredAt),
});

/** Every event but one per failed row, which an endpoint asks for by name. */
export const defaultWebhookEvents: EventType[] = eventTypes.filter(
  (type) => type !== 'bulk_change.row_failed',
);

export interface WebhookInput {
  url: string;
  events: EventType[];
  description: string;
  enabled: boolean;
}

/** The event a "send test event" delivers: signed and retried like any other. */
const testEvent = (endpointId: string, now: number): TenantEvent => ({
  id: `evt_${newId(now).replaceAll('-', '')}`,
  type: 'webhook.test',
  createdAt: new Date(now).toISOString(),
  data: { endpointId, message: 'A test event from bulkchange: your endpoint receives and can verify it.' },
});

/**
 * A tenant's webhook endpoints (ADR 0023): each receives the events it names, signed with its own secret
 * (shown once at creation and at each rotation, stored sealed). Every change is audited with who made
 * it; deliveries are logged per attempt, can be sent again by hand, and a test event can be sent at will.
 */
export class Webhooks {
  readonly #db: Db;
  readonly #secrets: SecretBox;
  readonly #targets: WebhookTargets;
  readonly #enqueue: Enqueue;

  constructor(deps: { db: Db; secrets: SecretBox; targets: WebhookTargets; enqueue: Enqueue }) {
    this.#db = deps.db;
    this.#secrets = deps.secrets;
    this.#targets = deps.targets;
    this.#enqueue = deps.enqueue;
  }

  async list(tenantId: string): Promise<WebhookEndpointView[]> {
    return (await webhooksRepository(this.#db).listEndpoints(tenantId)).map(endpointView);
  }

  async #endpoint(tenantId: string, id: string): Promise<WebhookEndpoint> {
    const endpoint = await webhooksRepository(this.#db).findEndpoint(tenantId, id);
    if (!endpoint) throw notFound('Webhook endpoint');
    return endpoint;
  }

  async get(tenantId: string, id: string): Promise<WebhookEndpointView> {
    return endpointView(await this.#endpoint(tenantId, id));
  }

  /** As a carrier base URL: a refused address is `ADDRESS_NOT_ALLOWED`, a malformed URL `VALIDATION_FAILED`. */
  async #checkUrl(url: string): Promise<void> {
    const problem = await this.#targets.check('url', url);
    if (problem?.code === 'ADDRESS_NOT_ALLOWED')
      throw new AppError(
        'ADDRESS_NOT_ALLOWED',
        'The webhook URL leads to an address this server does not call',
        [problem],
      );
    if (problem) throw validationFailed([problem], `The webhook URL ${problem.message}`);
  }

  /** A new endpoint, and its secret: the only time it is shown. */
  async create(
    tenantId: string,
    input: WebhookInput,
    actor: Actor,
  ): Promise<z.infer<typeof endpointWithSecretSchema>> {
    await this.#checkUrl(input.url);
    const now = Date.now();
    const secret = newWebhookSecret();
    const endpoint: WebhookEndpoint = {
      id: newId(now),
      tenantId,
      url: input.url,
      description: input.description,
      events: input.events,
      secretEncrypted: this.#secrets.encrypt(secret),
      enabled: input.enabled,
      createdAt: now,
      updatedAt: now,
    };
    await inTransaction(this.#db, async (tx) => {
      await webhooksRepository(tx).insertEndpoint(endpoint);
      await this.#audit(tx, tenantId, actor, 'webhook.create', { after: audited(endpoint) });
    });
    return { ...endpointView(endpoint), secret };
  }

  async update(
    tenantId: string,
    id: string,
    patch: Partial<WebhookInput>,
    actor: Actor,
  ): Promise<WebhookEndpointView> {
    const before = await this.#endpoint(tenantId, id);
    if (patch.url !== undefined) await this.#checkUrl(patch.url);
    const now = Date.now();
    await inTransaction(this.#db, async (tx) => {
      const repository = webhooksRepository(tx);
      await repository.updateEndpoint(tenantId, id, patch, now);
      const after = await repository.findEndpoint(tenantId, id);
      const changed = after && changedFields(audited(before), audited(after));
      if (changed && Object.keys(changed.after).length > 0)
        await this.#audit(tx, tenantId, actor, 'webhook.update', changed);
    });
    return this.get(tenantId, id);
  }

  async delete(tenantId: string, id: string, actor: Actor): Promise<void> {
    const endpoint = await this.#endpoint(tenantId, id);
    await inTransaction(this.#db, async (tx) => {
      await webhooksRepository(tx).deleteEndpoint(tenantId, id);
      await this.#audit(tx, tenantId, actor, 'webhook.delete', { before: audited(endpoint) });
    });
  }

  /** A new secret for the endpoint, shown once; deliveries sign with it from now on. */
  async rotateSecret(
    tenantId: string,
    id: string,
    actor: Actor,
  ): Promise<z.infer<typeof endpointWithSecretSchema>> {
    await this.#endpoint(tenantId, id);
    const secret = newWebhookSecret();
    await inTransaction(this.#db, async (tx) => {
      await webhooksRepository(tx).updateEndpoint(
        tenantId,
        id,
        { secretEncrypted: this.#secrets.encrypt(secret) },
        Date.now(),
      );
      await this.#audit(tx, tenantId, actor, 'webhook.secret_rotated', {
        before: { endpointId: id, secret: 'previous (not recorded)' },
        after: { endpointId: id, secret: 'replaced' },
      });
    });
    return { ...(await this.get(tenantId, id)), secret };
  }

  /** The endpoint's deliveries, newest first, each with its attempts. */
  async deliveries(tenantId: string, id: string, filter: { cursor?: string; limit: number }) {
    await this.#endpoint(tenantId, id);
    const repository = webhooksRepository(this.#db);
    const rows = await repository.listDeliveries(tenantId, id, {
      beforeId: filter.cursor,
      limit: filter.limit + 1,
    });
    const attempts = await repository.attemptsOf(rows.slice(0, filter.limit).map((row) => row.id));
    return page(
      rows,
      filter.limit,
      (row) => deliveryView(row, attempts.get(row.id) ?? []),
      (row) => row.id,
    );
  }

  /** Sends a delivery again by hand, whatever became of it: pending again, with a fresh retry window. */
  async redeliver(
    tenantId: string,
    id: string,
    deliveryId: string,
    actor: Actor,
  ): Promise<WebhookDeliveryView> {
    await this.#endpoint(tenantId, id);
    const delivery = await webhooksRepository(this.#db).findTenantDelivery(tenantId, id, deliveryId);
    if (!delivery) throw notFound('Delivery');
    await inTransaction(this.#db, async (tx) => {
      await webhooksRepository(tx).reopen(delivery.id, Date.now());
      await this.#enqueue(tx, deliverWebhookTask.job({ deliveryId: delivery.id }));
      await this.#audit(tx, tenantId, actor, 'webhook.redeliver', {
        after: { endpointId: id, deliveryId, eventId: delivery.eventId, eventType: delivery.eventType },
      });
    });
    return this.#deliveryView(deliveryId);
  }

  /** Delivers a `webhook.test` event to the endpoint (signed, logged and retried like any other). */
  async sendTest(tenantId: string, id: string, actor: Actor): Promise<WebhookDeliveryView> {
    const endpoint = await this.#endpoint(tenantId, id);
    const now = Date.now();
    const event = testEvent(endpoint.id, now);
    const deliveryId = newId(now);
    await inTransaction(this.#db, async (tx) => {
      await webhooksRepository(tx).insertDeliveries(
        [
          {
            id: deliveryId,
            tenantId,
            endpointId: id,
            eventId: event.id,
            eventType: event.type,
            body: JSON.stringify(event),
          },
        ],
        now,
      );
      await this.#enqueue(tx, deliverWebhookTask.job({ deliveryId }));
      await this.#audit(tx, tenantId, actor, 'webhook.test', {
        after: { endpointId: id, deliveryId, eventId: event.id },
      });
    });
    return this.#deliveryView(deliveryId);
  }

  /** Removes deliveries (and their attempts) created before `before`: retention. */
  prune(before: number): Promise<number> {
    return webhooksRepository(this.#db).prune(before);
  }

  async #deliveryView(deliveryId: string): Promise<WebhookDeliveryView> {
    const repository = webhooksRepository(this.#db);
    const delivery = await repository.findDelivery(deliveryId);
    if (!delivery) throw notFound('Delivery');
    return deliveryView(delivery, (await repository.attemptsOf([deliveryId])).get(deliveryId) ?? []);
  }

  #audit(
    tx: Tx,
    tenantId: string,
    actor: Actor,
    action: string,
    change: { before?: Record<string, unknown>; after?: Record<string, unknown> },
  ) {
    return auditRepository(tx).append([auditEntryForChange({ tenantId, actor, action, ...change })]);
  }
}

/** What the audit log keeps of an endpoint: everything but its secret. */
const audited = (endpoint: WebhookEndpoint) => ({
  endpointId: endpoint.id,
  url: endpoint.url,
  description: endpoint.description,
  events: endpoint.events,
  enabled: endpoint.enabled,
});
