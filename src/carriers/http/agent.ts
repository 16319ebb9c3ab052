import { type LookupAddress, type LookupAllOptions, lookup } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { Agent, buildConnector } from 'undici';
import { AddressNotAllowedError, type OutboundAddressPolicy } from './address-policy.ts';

/**
 * A resolver that refuses a name when any of its addresses is refused: a name that resolves to one
 * public and one internal address must not be a way in (the connection could take either).
 */
function policyLookup(policy: OutboundAddressPolicy): LookupFunction {
  return (hostname, options, callback) => {
    const all: LookupAllOptions = { ...options, all: true };
    lookup(hostname, all, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      if (!policy.allowsHost(hostname)) {
        for (const { address } of addresses) {
          const refusal = policy.refusal(address);
          if (refusal) return callback(new AddressNotAllowedError(refusal), '', 0);
        }
      }
      if (options.all) return (callback as (e: null, a: LookupAddress[]) => void)(null, addresses);
      return callback(null, addresses[0].address, addresses[0].family);
    });
  };
}

/**
 * undici's connector with the address policy on both sides of the connection: every address a name
 * resolves to is checked before connecting (an IP literal before anything is sent), and the address
 * the socket actually connected to is checked again before a byte of the request is written. So a DNS
 * answer that changes between checks, a name that resolves to loopback, and an absolute URL pointing
 * inside all end in {@link AddressNotAllowedError} (as would a redirect, though the client follows none).
 */
export function policyConnector(
  policy: OutboundAddressPolicy,
  options: { timeoutMs: number },
): buildConnector.connector {
  const connect = buildConnector({ timeout: options.timeoutMs, lookup: policyLookup(policy) });
  return (target, callback) => {
    const literal = isIP(target.hostname) !== 0;
    const byName = !literal && policy.allowsHost(target.hostname);
    const early = literal ? policy.refusal(target.hostname) : undefined;
    if (early) return callback(new AddressNotAllowedError(early), null);
    connect(target, (error, socket) => {
      if (error) return callback(error, null);
      const refusal = byName ? undefined : policy.refusal(socket.remoteAddress ?? '');
      if (!refusal) return callback(null, socket);
      socket.destroy();
      callback(new AddressNotAllowedError(refusal), null);
    });
  };
}

/**
 * The keep-alive agent of every outbound call made on a tenant's behalf, with the address policy on
 * every connection. Connections per origin are not capped here (the limiters cap concurrency per
 * account, and several accounts may share an origin), so an origin always has at least `maxConcurrent`
 * connections available. The runtime makes one and closes it on shutdown.
 */
export const outboundAgent = (policy: OutboundAddressPolicy): Agent =>
  new Agent({
    connections: null,
    pipelining: 1,
    keepAliveTimeout: 10_000,
    keepAliveMaxTimeout: 60_000,
    connect: policyConnector(policy, { timeoutMs: 10_000 }),
  });
