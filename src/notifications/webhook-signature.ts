import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** The header that carries a delivery's signature: `t=<unix seconds>,v1=<hex HMAC-SHA256>`. */
export const SIGNATURE_HEADER = 'bulkchange-signature';

/** A new endpoint secret: shown once, stored sealed. */
export const newWebhookSecret = (): string => `whsec_${randomBytes(32).toString('base64url')}`;

const hmac = (secret: string, timestamp: number, body: string) =>
  createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex');

/**
 * Signs a delivery: HMAC-SHA256 with the endpoint's secret over `timestamp + "." + body`, so a receiver
 * can tell the body is ours and unchanged, and refuse a replay of an old one by its time.
 */
export const signatureHeader = (secret: string, body: string, timestamp: number): string =>
  `t=${timestamp},v1=${hmac(secret, timestamp, body)}`;

/**
 * What a receiver does with the header (docs/webhooks.md shows the same in a few lines): recompute the
 * HMAC over the raw body, compare in constant time, and refuse it if its time is too far from now.
 */
export function verifySignature(
  secret: string,
  header: string | undefined,
  body: string,
  options: { toleranceSeconds?: number; now?: number } = {},
): boolean {
  const parts = new Map(
    (header ?? '').split(',').map((part) => {
      const at = part.indexOf('=');
      return [part.slice(0, at).trim(), part.slice(at + 1).trim()] as const;
    }),
  );
  const timestamp = Number(parts.get('t'));
  const given = parts.get('v1') ?? '';
  if (!Number.isInteger(timestamp) || !/^[0-9a-f]{64}$/.test(given)) return false;
  const now = Math.floor((options.now ?? Date.now()) / 1000);
  if (Math.abs(now - timestamp) > (options.toleranceSeconds ?? 300)) return false;
  return timingSafeEqual(Buffer.from(hmac(secret, timestamp, body), 'hex'), Buffer.from(given, 'hex'));
}
