import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** What a caller's (or its proxy's) own request id may look like to be kept: a plain token, not too long. */
const GIVEN_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * A request's id: the `x-request-id` the caller (a proxy, a script) sent when it is a plain token, so
 * that its logs and ours meet; else a new UUID. Anything else is replaced, never logged as sent.
 */
export function requestIdOf(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && GIVEN_ID.test(given) ? given : randomUUID();
}
