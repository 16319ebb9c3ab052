/**
 * The outbound address policy (DESIGN §5): the server calls URLs on a tenant's behalf (carrier accounts,
 * billing connections, later webhooks), so a tenant admin must not be able to aim those calls, with the
 * account's credentials, at the server's own network. Loopback, private, link-local, multicast,
 * unspecified and reserved addresses are refused unless the operator allows them
 * (`BULKCHANGE_OUTBOUND_ALLOW`); public addresses always pass.
 *
 * This file is the pure decision over one address. `agent.ts` applies it to every address a name
 * resolves to and to the address a socket actually connected to; `outbound-url.ts` applies it to a URL
 * when an account is saved.
 */

export type AddressRange =
  | 'public'
  | 'loopback'
  | 'private'
  | 'link_local'
  | 'multicast'
  | 'unspecified'
  | 'reserved';

export interface IpAddress {
  version: 4 | 6;
  /** 4 or 16 bytes, network order. */
  bytes: Uint8Array;
}

/** One IPv4 part as `inet_aton` and the WHATWG URL parser read it: decimal, octal (`0…`) or hex (`0x…`). */
const IPV4_PART = /^(?:0x[0-9a-f]*|0[0-7]*|[1-9][0-9]*)$/i;

const partValue = (part: string): number => {
  if (/^0x/i.test(part)) return part.length === 2 ? 0 : Number.parseInt(part.slice(2), 16);
  if (part.length > 1 && part.startsWith('0')) return Number.parseInt(part, 8);
  return Number(part);
};

/**
 * Every IPv4 notation a URL or a resolver accepts: `127.0.0.1`, `2130706433`, `0x7f.1`, `0177.0.0.1`,
 * `127.1` (the last part fills the remaining bytes), with an optional trailing dot.
 */
export function parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length > 1 && parts.at(-1) === '') parts.pop();
  if (parts.length === 0 || parts.length > 4 || !parts.every((part) => IPV4_PART.test(part)))
    return undefined;
  const values = parts.map(partValue);
  const last = values.pop()!;
  if (values.some((value) => value > 255) || last >= 256 ** (4 - values.length)) return undefined;
  let number = last;
  values.forEach((value, index) => {
    number += value * 256 ** (3 - index);
  });
  return Uint8Array.of(number >>> 24, (number >>> 16) & 255, (number >>> 8) & 255, number & 255);
}

const DOTTED_QUAD = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

const hexGroups = (text: string): number[] | undefined => {
  if (text === '') return [];
  const groups = text.split(':');
  if (!groups.every((group) => /^[0-9a-f]{1,4}$/i.test(group))) return undefined;
  return groups.map((group) => Number.parseInt(group, 16));
};

/** IPv6 in any RFC 4291 form (`::`, `::1`, `::ffff:127.0.0.1`, `fe80::1%eth0`, `[::1]`). */
export function parseIpv6(text: string): Uint8Array | undefined {
  let address = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  address = address.replace(/%[^%]*$/, ''); // zone id
  let tail: number[] = [];
  const lastColon = address.lastIndexOf(':');
  if (lastColon >= 0 && address.includes('.', lastColon)) {
    const quad = address.slice(lastColon + 1);
    if (!DOTTED_QUAD.test(quad)) return undefined;
    const [a, b, c, d] = quad.split('.').map(Number);
    tail = [(a << 8) | b, (c << 8) | d];
    // Keep a `::` before the IPv4 part; drop a single separating colon.
    address = address.slice(0, lastColon + 1);
    if (!address.endsWith('::')) address = address.slice(0, -1);
  }
  const halves = address.split('::');
  if (halves.length > 2) return undefined;
  const head = hexGroups(halves[0]);
  const rest = halves.length === 2 ? hexGroups(halves[1]) : [];
  if (!head || !rest) return undefined;
  const given = head.length + rest.length + tail.length;
  let groups: number[];
  if (halves.length === 2) {
    if (given > 7) return undefined;
    groups = [...head, ...new Array<number>(8 - given).fill(0), ...rest, ...tail];
  } else {
    if (given !== 8) return undefined;
    groups = [...head, ...tail];
  }
  const bytes = new Uint8Array(16);
  groups.forEach((group, index) => {
    bytes[index * 2] = group >> 8;
    bytes[index * 2 + 1] = group & 255;
  });
  return bytes;
}

/** An IP address in any notation, or undefined when `text` is not one (a host name). */
export function parseIpAddress(text: string): IpAddress | undefined {
  if (text.includes(':') || text.startsWith('[')) {
    const bytes = parseIpv6(text);
    return bytes && { version: 6, bytes };
  }
  const bytes = parseIpv4(text);
  return bytes && { version: 4, bytes };
}

interface Network {
  version: 4 | 6;
  bytes: Uint8Array;
  prefix: number;
}

const inNetwork = (address: IpAddress, network: Network): boolean => {
  if (address.version !== network.version) return false;
  for (let bit = 0; bit < network.prefix; bit++) {
    const mask = 0x80 >> (bit % 8);
    if ((address.bytes[bit >> 3] & mask) !== (network.bytes[bit >> 3] & mask)) return false;
  }
  return true;
};

const network = (text: string, prefix: number): Network => {
  const address = parseIpAddress(text)!;
  return { ...address, prefix };
};

const UNSPECIFIED_V6 = network('::', 128);
const LOOPBACK_V6 = network('::1', 128);

/** Special-purpose ranges (IANA registries); anything in none of them is public. */
const ranges: Array<[Network, Exclude<AddressRange, 'public'>]> = [
  [network('0.0.0.0', 8), 'unspecified'],
  [network('10.0.0.0', 8), 'private'],
  [network('100.64.0.0', 10), 'private'], // shared address space (carrier-grade NAT)
  [network('127.0.0.0', 8), 'loopback'],
  [network('169.254.0.0', 16), 'link_local'], // cloud metadata services live here
  [network('172.16.0.0', 12), 'private'],
  [network('192.0.0.0', 24), 'reserved'],
  [network('192.0.2.0', 24), 'reserved'],
  [network('192.88.99.0', 24), 'reserved'],
  [network('192.168.0.0', 16), 'private'],
  [network('198.18.0.0', 15), 'reserved'],
  [network('198.51.100.0', 24), 'reserved'],
  [network('203.0.113.0', 24), 'reserved'],
  [network('224.0.0.0', 4), 'multicast'],
  [network('240.0.0.0', 4), 'reserved'], // with the broadcast address
  [UNSPECIFIED_V6, 'unspecified'],
  [LOOPBACK_V6, 'loopback'],
  [network('64:ff9b:1::', 48), 'private'], // local-use NAT64
  [network('100::', 64), 'reserved'],
  [network('2001:db8::', 32), 'reserved'],
  [network('fc00::', 7), 'private'],
  [network('fe80::', 10), 'link_local'],
  [network('fec0::', 10), 'private'], // site-local (deprecated)
  [network('ff00::', 8), 'multicast'],
];

/** IPv6 prefixes that carry an IPv4 address, and where: such an address is judged by its IPv4 part. */
const embeddingIpv4: Array<[Network, number]> = [
  [network('::ffff:0:0', 96), 12], // IPv4-mapped
  [network('::ffff:0:0:0', 96), 12], // IPv4-translated
  [network('::', 96), 12], // IPv4-compatible (deprecated); `::` and `::1` are matched before
  [network('64:ff9b::', 96), 12], // NAT64
  [network('2002::', 16), 2], // 6to4
];

/** The IPv4 address an IPv6 address stands for, if it embeds one; else the address itself. */
function unwrapIpv4(address: IpAddress): IpAddress {
  if (address.version === 4 || inNetwork(address, UNSPECIFIED_V6) || inNetwork(address, LOOPBACK_V6))
    return address;
  for (const [prefix, offset] of embeddingIpv4) {
    if (inNetwork(address, prefix)) return { version: 4, bytes: address.bytes.slice(offset, offset + 4) };
  }
  return address;
}

/** Which range an address is in. */
export function rangeOf(address: IpAddress): AddressRange {
  const judged = unwrapIpv4(address);
  return ranges.find(([net]) => inNetwork(judged, net))?.[1] ?? 'public';
}

/** `BULKCHANGE_OUTBOUND_ALLOW` entry: a network (`10.0.0.0/8`, `::1`) or a host name (`sim.internal`). */
type AllowEntry = { kind: 'network'; network: Network } | { kind: 'host'; name: string };

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,62})(?:\.[a-z0-9_](?:[a-z0-9_-]{0,62}))*$/;

const normaliseHost = (host: string) => host.toLowerCase().replace(/\.$/, '');

function parseAllowEntry(text: string): AllowEntry | undefined {
  const [target, prefixText, ...extra] = text.split('/');
  if (extra.length > 0) return undefined;
  const address = parseIpAddress(target);
  if (address) {
    const max = address.version === 4 ? 32 : 128;
    if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return undefined;
    const prefix = prefixText === undefined ? max : Number(prefixText);
    if (prefix > max) return undefined;
    return { kind: 'network', network: { ...address, prefix } };
  }
  const name = normaliseHost(target);
  return prefixText === undefined && HOST_NAME.test(name) ? { kind: 'host', name } : undefined;
}

export class InvalidAllowEntryError extends Error {
  readonly entries: string[];
  constructor(entries: string[]) {
    super(`Not a network (CIDR or address) or host name: ${entries.map((e) => `"${e}"`).join(', ')}`);
    this.name = 'InvalidAllowEntryError';
    this.entries = entries;
  }
}

/** Why a connection was refused: the range its address is in (never the address, which stays inside). */
export interface AddressRefusal {
  range: Exclude<AddressRange, 'public'>;
}

/** A connection the policy refused. Its `code` is what the HTTP client classifies it by. */
export class AddressNotAllowedError extends Error {
  readonly code = 'ADDRESS_NOT_ALLOWED';
  readonly range: AddressRefusal['range'];
  constructor(refusal: AddressRefusal) {
    super(`refused by the outbound address policy: the address is ${refusal.range.replace('_', '-')}`);
    this.name = 'AddressNotAllowedError';
    this.range = refusal.range;
  }
}

export const isAddressNotAllowed = (error: unknown): error is AddressNotAllowedError =>
  error instanceof AddressNotAllowedError;

/**
 * The operator's policy: the default refuses every non-public address; `allow` entries (networks in
 * CIDR notation or single addresses, and host names) open exactly what they name.
 */
export class OutboundAddressPolicy {
  readonly #allowed: AllowEntry[] = [];

  /** Throws {@link InvalidAllowEntryError} naming every entry that is neither a network nor a host name. */
  constructor(allow: readonly string[] = []) {
    this.allow(allow);
  }

  /** Opens more (the demo, once it knows the address its simulators are served on). */
  allow(entries: readonly string[]): void {
    const parsed = entries.map((entry) => [entry, parseAllowEntry(entry.trim())] as const);
    const invalid = parsed.filter(([, entry]) => entry === undefined).map(([text]) => text);
    if (invalid.length > 0) throw new InvalidAllowEntryError(invalid);
    for (const [, entry] of parsed) this.#allowed.push(entry!);
  }

  /** Whether a host name is allowed by name, whatever it resolves to. */
  allowsHost(host: string): boolean {
    const name = normaliseHost(host);
    return this.#allowed.some((entry) => entry.kind === 'host' && entry.name === name);
  }

  /**
   * Why connecting to `address` is refused, or undefined when it is allowed. An address that cannot be
   * read is refused as reserved: the policy never guesses in the caller's favour.
   */
  refusal(address: string): AddressRefusal | undefined {
    const parsed = parseIpAddress(address);
    if (!parsed) return { range: 'reserved' };
    const range = rangeOf(parsed);
    if (range === 'public') return undefined;
    const judged = unwrapIpv4(parsed);
    const allowed = this.#allowed.some(
      (entry) =>
        entry.kind === 'network' && (inNetwork(parsed, entry.network) || inNetwork(judged, entry.network)),
    );
    return allowed ? undefined : { range };
  }
}
