import type { SimRequest, SimResponse } from '../../../carriers/simulator-kit/definition.ts';
import { revioError, revioErrorCodes } from './errors.ts';

const refusal: SimResponse = {
  ...revioError(401, revioErrorCodes.unauthorized, 'Invalid credentials'),
  headers: { 'www-authenticate': 'Basic realm="Rev.io"' },
};

/** Azure API Management's own answer for a missing or unknown subscription key (`{statusCode, message}`). */
const gatewayRefusal = (message: string): SimResponse => ({
  status: 401,
  body: { statusCode: 401, message },
});

/**
 * The gateway first, then Rev.io: `Ocp-Apim-Subscription-Key` must be a known key, then HTTP Basic
 * with `login@clientcode` and the password (carrier-apis §6). Runs after the kit's fault gate, as a
 * real gateway throttles before it looks at credentials. Undefined when the caller may pass.
 */
export const revioAuthRefusal = (
  users: Record<string, string>,
  subscriptionKeys: ReadonlySet<string>,
  request: SimRequest,
): SimResponse | undefined => {
  const key = request.headers['ocp-apim-subscription-key'];
  if (typeof key !== 'string' || key === '') {
    return gatewayRefusal(
      'Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API.',
    );
  }
  if (!subscriptionKeys.has(key)) {
    return gatewayRefusal(
      'Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription.',
    );
  }
  const credentials = /^Basic\s+(\S+)$/i.exec(request.headers.authorization ?? '');
  if (credentials === null) return refusal;
  const decoded = Buffer.from(credentials[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const login = decoded.slice(0, colon);
  const valid = colon > 0 && Object.hasOwn(users, login) && users[login] === decoded.slice(colon + 1);
  return valid ? undefined : refusal;
};
