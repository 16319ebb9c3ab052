import { lookup } from 'node:dns/promises';
import { z } from 'zod';
import type { ErrorDetail } from '../../core/errors.ts';
import { type OutboundAddressPolicy, parseIpAddress } from './address-policy.ts';

const PLAIN_PATH = /^(?:\/[A-Za-z0-9_~!$&'()*+,;=:@-][A-Za-z0-9._~!$&'()*+,;=:@-]*)*\/?$/;

/**
 * A path setting joined to an account's base URL (`settings.apiPath`, Teal's and Telegence's paths):
 * segments of URL path characters, none starting with a dot, so that it cannot climb out of the base
 * path or carry a query, a fragment, a backslash, a scheme or a host of its own.
 */
export const outboundPathSchema = z
  .string()
  .min(1)
  .max(500)
  .refine((path) => PLAIN_PATH.test(path), {
    message: 'a path of plain segments starting with "/" (no "//", dot segments, "?", "#", "%" or "\\")',
    params: { detailCode: 'INVALID_URL' },
  });

/** The detail code a settings issue asks for (`INVALID_URL` for a path), if any. */
export const issueDetailCode = (issue: {
  code: string;
  params?: Record<string, unknown>;
}): 'INVALID_URL' | undefined =>
  issue.code === 'custom' && issue.params?.detailCode === 'INVALID_URL' ? 'INVALID_URL' : undefined;

/** How long a save waits for the resolver before leaving the check to call time. */
const LOOKUP_TIMEOUT_MS = 3_000;

const refusedDetail = (field: string, message: string): ErrorDetail => ({
  field,
  code: 'ADDRESS_NOT_ALLOWED',
  message,
});

/** The shape problems of a URL the server would call: http(s), a host, no userinfo, query or fragment. */
function urlShapeProblem(url: URL): string | undefined {
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an http:// or https:// URL';
  if (url.username !== '' || url.password !== '') return 'must not carry a user name or password';
  if (url.search !== '' || url.hash !== '') return 'must not carry a query or fragment';
  if (url.hostname === '') return 'must name a host';
  return undefined;
}

/**
 * Checks a URL the server will call on a tenant's behalf, when it is saved: its shape, then its
 * address. An IP literal (in any notation: the URL parser writes `2130706433` as `127.0.0.1`) is judged
 * as it is; a host name by every address it resolves to now. A name that does not resolve yet is
 * accepted: the policy is applied again to the connected address of every call, which is what counts.
 */
export async function checkOutboundUrl(
  field: string,
  value: string,
  policy: OutboundAddressPolicy,
): Promise<ErrorDetail | undefined> {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { field, code: 'INVALID_URL', message: 'is not a URL' };
  }
  const problem = urlShapeProblem(url);
  if (problem) return { field, code: 'INVALID_URL', message: problem };
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!parseIpAddress(host)) {
    if (policy.allowsHost(host)) return undefined;
    const addresses = await resolve(host);
    const refusal = addresses.map((address) => policy.refusal(address)).find(Boolean);
    return refusal && refusedDetail(field, `${host} resolves to a ${rangeName(refusal.range)} address`);
  }
  const refusal = policy.refusal(host);
  return refusal && refusedDetail(field, `${host} is a ${rangeName(refusal.range)} address`);
}

const rangeName = (range: string) => range.replace('_', '-');

async function resolve(host: string): Promise<string[]> {
  const timeout = AbortSignal.timeout(LOOKUP_TIMEOUT_MS);
  const lookedUp = lookup(host, { all: true }).then(
    (addresses) => addresses.map(({ address }) => address),
    () => [],
  );
  const timedOut = new Promise<string[]>((resolve) => timeout.addEventListener('abort', () => resolve([])));
  return Promise.race([lookedUp, timedOut]);
}
