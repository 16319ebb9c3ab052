import { z } from 'zod';
import { defineTask } from '../queue/index.ts';

/** Delivers one webhook delivery; retried with backoff for a day (ADR 0023). */
export const deliverWebhookTask = defineTask({
  name: 'webhook.deliver',
  payload: z.object({ deliveryId: z.string().min(1) }),
  key: ({ deliveryId }) => `webhook:${deliveryId}`,
  // Retries are paced by the delivery's own schedule and end after its retry window; this only bounds a
  // job whose runs keep dying.
  maxAttempts: 500,
});

/** Sends the completion e-mail of one bulk change. */
export const sendCompletionEmailTask = defineTask({
  name: 'notifications.email',
  payload: z.object({ tenantId: z.string().min(1), bulkChangeId: z.string().min(1) }),
  key: ({ bulkChangeId }) => `email:${bulkChangeId}`,
  maxAttempts: 10,
});
