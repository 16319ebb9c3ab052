import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { CarrierAccount } from '../../core/flow.ts';
import type { CallbackReceiver, InboundCallback } from '../carrier.ts';
import { redactBody } from '../http/redaction.ts';
import { lineFromIds, thingSpaceCredentialsSchema, thingSpaceSettingsSchema } from './client.ts';

/** A CarrierService callback (carrier-apis §1.8): one device's result of an asynchronous request. */
export const thingSpaceCallbackSchema = z
  .object({
    requestId: z.string().min(1),
    deviceIds: z.array(z.object({ id: z.string(), kind: z.string() }).loose()).min(1),
    status: z.string(),
    deviceResponse: z.record(z.string(), z.unknown()).optional(),
    faultResponse: z.record(z.string(), z.unknown()).optional(),
    username: z.string().optional(),
    password: z.string().optional(),
  })
  .loose();

const digest = (secret: string) => createHash('sha256').update(secret, 'utf8').digest();

/**
 * Compares secrets in constant time, as fixed-length digests: neither the answer nor its timing tells
 * the expected secret's length, and no input (non-ASCII, any length) can make the comparison throw.
 */
const sameSecret = (given: string | undefined, expected: string) =>
  given !== undefined && timingSafeEqual(digest(given), digest(expected));

/** The registered username and password, from HTTP Basic or (as ThingSpace also sends them) the body. */
function presented(callback: InboundCallback) {
  const header = callback.headers.authorization;
  const basic = /^Basic\s+(\S+)$/i.exec(typeof header === 'string' ? header : '');
  if (!basic) {
    const body = (callback.body ?? {}) as { username?: unknown; password?: unknown };
    return {
      username: typeof body.username === 'string' ? body.username : undefined,
      password: typeof body.password === 'string' ? body.password : undefined,
    };
  }
  const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? {} : { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** ThingSpace's callbacks: authenticated with the username and password registered with them. */
export const thingSpaceCallbacks: CallbackReceiver = {
  authenticate(account: CarrierAccount, callback: InboundCallback): boolean {
    const expectedPassword = thingSpaceCredentialsSchema.safeParse(account.credentials).data
      ?.callbackPassword;
    const expectedUsername = thingSpaceSettingsSchema.safeParse(account.settings).data?.callbackUsername;
    if (!expectedPassword || !expectedUsername) return false;
    const given = presented(callback);
    // Both compared, whatever the first says, so the answer's timing tells nothing.
    const username = sameSecret(given.username, expectedUsername);
    const password = sameSecret(given.password, expectedPassword);
    return username && password;
  },

  parse(body: unknown) {
    const parsed = thingSpaceCallbackSchema.safeParse(body);
    if (!parsed.success) return undefined;
    const { username: _username, password: _password, ...result } = parsed.data;
    return {
      requestId: result.requestId,
      iccid: lineFromIds(result.deviceIds).iccid,
      payload: result,
      audit: redactBody(parsed.data),
    };
  },
};
