import type { IncomingHttpHeaders } from 'node:http';
import type { SimResponse } from '../../simulator-kit/definition.ts';
import { telegenceError } from './errors.ts';

/**
 * Every call carries `app-id` and `app-secret` headers; there is no token exchange (carrier-apis §3.2).
 * Checked after the kit's fault gate, as a gateway throttles before it looks at credentials.
 */
export const appRefusal = (
  apps: Record<string, string>,
  headers: IncomingHttpHeaders,
): SimResponse | undefined => {
  const appId = headers['app-id'];
  const secret = headers['app-secret'];
  const valid = typeof appId === 'string' && Object.hasOwn(apps, appId) && apps[appId] === secret;
  return valid ? undefined : telegenceError(401, 'Invalid app-id or app-secret');
};
