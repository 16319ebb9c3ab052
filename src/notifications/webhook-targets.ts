import type { Dispatcher } from 'undici';
import type { OutboundAddressPolicy } from '../carriers/http/address-policy.ts';
import { checkOutboundUrl } from '../carriers/http/outbound-url.ts';
import type { ErrorDetail } from '../core/errors.ts';

/**
 * Where webhook deliveries may go (ADR 0023), the one seam of the outbound address policy: `check`
 * judges an endpoint's URL when it is saved, and `dispatcher` is the HTTP agent every delivery connects
 * through, which judges the address it actually connects to.
 */
export interface WebhookTargets {
  check(field: string, url: string): Promise<ErrorDetail | undefined>;
  dispatcher: Dispatcher;
}

/**
 * The targets a carrier base URL has: the same URL check (plain http(s) on one host, no user info,
 * query or fragment; an address the policy allows) and the same agent, which refuses to connect to an
 * address the policy refuses, whatever a name resolves to by then.
 */
export const outboundTargets = (policy: OutboundAddressPolicy, agent: Dispatcher): WebhookTargets => ({
  check: (field, url) => checkOutboundUrl(field, url, policy),
  dispatcher: agent,
});
