import type { Dispatcher } from 'undici';
import type { ErrorDetail } from '../core/errors.ts';

/**
 * Where webhook deliveries may go (ADR 0023), the one seam the outbound address policy plugs into:
 * `check` judges an endpoint's URL when it is saved, and `dispatcher` is the HTTP agent every delivery
 * connects through, which judges the address it actually connects to. The runtime builds it from the
 * same policy and agent as carrier calls, so a webhook reaches only what a carrier base URL may.
 */
export interface WebhookTargets {
  check(field: string, url: string): Promise<ErrorDetail | undefined>;
  dispatcher: Dispatcher;
}

/** The shape problems of a URL deliveries would POST to: http(s), a host, no user info or fragment. */
export function webhookUrlProblem(field: string, value: string): ErrorDetail | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { field, code: 'INVALID_FIELD', message: 'is not a URL' };
  }
  const problem =
    url.protocol !== 'https:' && url.protocol !== 'http:'
      ? 'must be an http:// or https:// URL'
      : url.username !== '' || url.password !== ''
        ? 'must not carry a user name or password (sign-in is the signature)'
        : url.hash !== ''
          ? 'must not carry a fragment'
          : undefined;
  return problem ? { field, code: 'INVALID_FIELD', message: problem } : undefined;
}

/**
 * Targets with the URL's shape checked and the carriers' agent, for a build without an outbound
 * address policy: every address the agent reaches, a webhook reaches too.
 */
export const shapeCheckedTargets = (dispatcher: Dispatcher): WebhookTargets => ({
  check: async (field, url) => webhookUrlProblem(field, url),
  dispatcher,
});
