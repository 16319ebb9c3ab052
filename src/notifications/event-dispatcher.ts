import { finishedEvent } from '../bulk-changes/event-types.ts';
import { eventsRepository } from '../bulk-changes/events-repository.ts';
import type { Enqueue } from '../bulk-changes/jobs.ts';
import { terminalBulkStatuses } from '../core/statuses.ts';
import { type Capabilities, type Db, inTransaction } from '../db/database.ts';
import { newId } from '../shared/ids.ts';
import { deliverWebhookTask, sendCompletionEmailTask } from './tasks.ts';
import { webhooksRepository } from './webhooks-repository.ts';

/** Events taken per transaction. */
const BATCH = 500;

/** The events of a bulk change that has ended: each sends the completion e-mail. */
const finishedTypes = new Set<string>(terminalBulkStatuses.map(finishedEvent));

/**
 * Fans a tenant's new events out (ADR 0023): one delivery per event and endpoint that asked for its
 * type (a unique key makes a second dispatch of the same event a no-op), each with its own job, and the
 * completion e-mail of a finished bulk change. The event is marked dispatched in the same transaction.
 */
export class EventDispatcher {
  readonly #deps: { db: Db; capabilities: Capabilities; enqueue: Enqueue; emailEnabled: boolean };

  constructor(deps: { db: Db; capabilities: Capabilities; enqueue: Enqueue; emailEnabled: boolean }) {
    this.#deps = deps;
  }

  async dispatch(tenantId: string): Promise<void> {
    for (;;) {
      const taken = await inTransaction(this.#deps.db, async (tx) => {
        const events = await eventsRepository(tx).undispatched(tenantId, BATCH, this.#deps.capabilities);
        if (events.length === 0) return 0;
        const now = Date.now();
        const webhooks = webhooksRepository(tx);
        const endpoints = (await webhooks.listEndpoints(tenantId)).filter((endpoint) => endpoint.enabled);
        const created = await webhooks.insertDeliveries(
          events.flatMap(({ event }) =>
            endpoints
              .filter((endpoint) => endpoint.events.includes(event.type))
              .map((endpoint) => ({
                id: newId(now),
                tenantId,
                endpointId: endpoint.id,
                eventId: event.id,
                eventType: event.type,
                body: JSON.stringify(event),
              })),
          ),
          now,
        );
        for (const deliveryId of created)
          await this.#deps.enqueue(tx, deliverWebhookTask.job({ deliveryId }));
        if (this.#deps.emailEnabled) {
          for (const { event, bulkChangeId } of events) {
            if (bulkChangeId && finishedTypes.has(event.type))
              await this.#deps.enqueue(tx, sendCompletionEmailTask.job({ tenantId, bulkChangeId }));
          }
        }
        await eventsRepository(tx).markDispatched(
          events.map((event) => event.seq),
          now,
        );
        return events.length;
      });
      if (taken < BATCH) return;
    }
  }
}
