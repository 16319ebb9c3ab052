import type { Logger } from 'pino';
import { request } from 'undici';
import type { SecretBox } from '../accounts/secret-box.ts';
import { auditRepository } from '../audit/audit-repository.ts';
import { redactUrl } from '../carriers/http/redaction.ts';
import { type Db, inTransaction } from '../db/database.ts';
import { RetryAfterError } from '../queue/index.ts';
import { SIGNATURE_HEADER, signatureHeader } from './webhook-signature.ts';
import type { WebhookTargets } from './webhook-targets.ts';
import { type WebhookDelivery, webhooksRepository } from './webhooks-repository.ts';

export interface WebhookRetryPolicy {
  /** An attempt that takes longer fails. */
  timeoutMs: number;
  /** The first retry comes this long after the first attempt; each next one twice as long, ≤ 1 hour. */
  retryBaseMs: number;
  /** A delivery is given up this long after its first attempt. */
  retryForMs: number;
}

const MAX_RETRY_DELAY_MS = 3_600_000;

/** When attempt `attempt` (1 = the first) has failed, how long until the next: doubling, capped, ±20 %. */
export const retryDelay = (policy: WebhookRetryPolicy, attempt: number, random = Math.random): number =>
  Math.round(Math.min(MAX_RETRY_DELAY_MS, policy.retryBaseMs * 2 ** (attempt - 1)) * (0.8 + 0.4 * random()));

export interface WebhookSenderDeps {
  db: Db;
  secrets: SecretBox;
  targets: WebhookTargets;
  policy: WebhookRetryPolicy;
  logger: Logger;
}

/**
 * Sends one webhook delivery (ADR 0023): the body as stored, signed with the endpoint's secret over
 * `timestamp.body`, through the targets' agent (the outbound address policy). Every attempt is logged on
 * the delivery and audited; a failed one is retried by the queue after `retryDelay`, until the retry
 * window has passed. A 2xx delivers; anything else (3xx included: redirects are not followed) fails.
 */
export class WebhookSender {
  readonly #deps: WebhookSenderDeps;

  constructor(deps: WebhookSenderDeps) {
    this.#deps = deps;
  }

  async deliver(deliveryId: string, signal: AbortSignal): Promise<void> {
    const { db } = this.#deps;
    const deliveries = webhooksRepository(db);
    const delivery = await deliveries.findDelivery(deliveryId);
    if (delivery?.state !== 'pending') return;
    const endpoint = await deliveries.findEndpoint(delivery.tenantId, delivery.endpointId);
    if (!endpoint?.enabled) {
      await deliveries.giveUp(
        delivery.id,
        endpoint ? 'The endpoint is disabled' : 'The endpoint was deleted',
        Date.now(),
      );
      return;
    }
    const at = Date.now();
    const attempt = await this.#post(
      endpoint.url,
      this.#deps.secrets.decrypt(endpoint.secretEncrypted),
      delivery,
      signal,
    );
    const firstAttemptAt = delivery.firstAttemptAt ?? at;
    const expired = Date.now() - firstAttemptAt >= this.#deps.policy.retryForMs;
    const state = attempt.error === null ? 'delivered' : expired ? 'failed' : 'pending';
    await inTransaction(db, async (tx) => {
      await webhooksRepository(tx).recordAttempt(
        {
          deliveryId: delivery.id,
          at,
          statusCode: attempt.statusCode,
          durationMs: attempt.durationMs,
          error: attempt.error,
        },
        { state, firstAttemptAt },
      );
      await auditRepository(tx).append([
        {
          tenant_id: delivery.tenantId,
          bulk_change_id: null,
          device_change_id: null,
          carrier_account_id: null,
          at,
          actor: 'webhooks',
          action: 'webhook.deliver',
          system: 'webhook',
          request: JSON.stringify({
            method: 'POST',
            url: redactUrl(endpoint.url),
            endpointId: endpoint.id,
            deliveryId: delivery.id,
            eventId: delivery.eventId,
            eventType: delivery.eventType,
          }),
          response: JSON.stringify({ statusCode: attempt.statusCode, error: attempt.error }),
          http_status: attempt.statusCode,
          duration_ms: attempt.durationMs,
          outcome: state === 'delivered' ? 'success' : state === 'failed' ? 'failed' : 'transient',
        },
      ]);
    });
    if (state === 'pending') {
      const delay = retryDelay(this.#deps.policy, delivery.attempts + 1);
      throw new RetryAfterError(
        delay,
        `webhook delivery failed (${attempt.error}); next attempt in ${delay} ms`,
      );
    }
    if (state === 'failed')
      this.#deps.logger.warn(
        { deliveryId, endpointId: endpoint.id, error: attempt.error },
        'webhook delivery given up',
      );
  }

  /** The delivery's job failed for good (its runs kept dying): the delivery fails, saying why. */
  async giveUp(deliveryId: string, reason: string): Promise<void> {
    await webhooksRepository(this.#deps.db).giveUp(deliveryId, reason, Date.now());
  }

  async #post(
    url: string,
    secret: string,
    delivery: WebhookDelivery,
    signal: AbortSignal,
  ): Promise<{ statusCode: number | null; error: string | null; durationMs: number }> {
    const started = performance.now();
    const { timeoutMs } = this.#deps.policy;
    try {
      const response = await request(url, {
        method: 'POST',
        dispatcher: this.#deps.targets.dispatcher,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'bulkchange-webhooks/1',
          [SIGNATURE_HEADER]: signatureHeader(secret, delivery.body, Math.floor(Date.now() / 1000)),
          'bulkchange-event': delivery.eventType,
          'bulkchange-delivery': delivery.id,
        },
        body: delivery.body,
        signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      await response.body.dump();
      const ok = response.statusCode >= 200 && response.statusCode < 300;
      return {
        statusCode: response.statusCode,
        error: ok ? null : `HTTP ${response.statusCode}`,
        durationMs: Math.round(performance.now() - started),
      };
    } catch (error) {
      return {
        statusCode: null,
        error: describe(error),
        durationMs: Math.round(performance.now() - started),
      };
    }
  }
}

/** A failed attempt in the log: the error's code and message, never a stack. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${typeof code === 'string' ? `${code} ` : ''}${error.message}${cause}`.slice(0, 500);
}
