import { z } from 'zod';
import type { SimResponse } from '../../simulator-kit/definition.ts';
import { ipError } from './errors.ts';
import type { TelegenceLineStore } from './lines.ts';

/** Documented in AMOP: it asks for 10 addresses at a time. */
export const telegenceMaxIpQuantity = 10;

const reserveSchema = z.object({
  pdpName: z.string().min(1),
  ipQuantity: z.number().int().min(1).max(telegenceMaxIpQuantity),
});

/** The pool in a fixed order: 10.64.0.1 … 10.64.0.250, 10.64.1.1 … */
const poolAddress = (index: number): string => `10.64.${Math.floor(index / 250)}.${(index % 250) + 1}`;

/**
 * The static IP pool. An address is free unless it is reserved (for a PDP name, until provisioned) or a
 * line has it; reservations are the only state, lines are read from the store.
 */
export class IpPool {
  readonly #store: TelegenceLineStore;
  readonly #size: () => number;
  /** Address → the PDP name it was reserved for. */
  readonly #reserved = new Map<string, string>();

  constructor(store: TelegenceLineStore, size: () => number) {
    this.#store = store;
    this.#size = size;
  }

  /** `POST /sp/mobility/ipaddress/api/v1/reservations`: fewer records, or none, once the pool runs dry. */
  reserve(body: unknown): SimResponse {
    const parsed = reserveSchema.safeParse(body);
    if (!parsed.success) return ipError(400, `Invalid request: ${parsed.error.issues[0].message}`);
    const { pdpName, ipQuantity } = parsed.data;
    const assigned = this.#assigned();
    const addresses: string[] = [];
    for (let index = 0; index < this.#size() && addresses.length < ipQuantity; index += 1) {
      const address = poolAddress(index);
      if (this.#reserved.has(address) || assigned.has(address)) continue;
      this.#reserved.set(address, pdpName);
      addresses.push(address);
    }
    const message =
      addresses.length === ipQuantity
        ? `${ipQuantity} IP addresses reserved for ${pdpName}`
        : `Only ${addresses.length} of ${ipQuantity} IP addresses reserved for ${pdpName}: the pool is exhausted`;
    return {
      status: 200,
      body: { ipAddressRecords: addresses.map((ipAddress) => ({ ipAddress, pdpName })), message },
    };
  }

  reservedFor(address: string): string | undefined {
    return this.#reserved.get(address);
  }

  /** A provisioned address belongs to its line from now on. */
  release(address: string): void {
    this.#reserved.delete(address);
  }

  /** `GET /_sim/ip-pool`. */
  summary() {
    const assigned = this.#assigned();
    let reserved = 0;
    let taken = 0;
    for (let index = 0; index < this.#size(); index += 1) {
      const address = poolAddress(index);
      if (this.#reserved.has(address)) reserved += 1;
      else if (assigned.has(address)) taken += 1;
    }
    return { size: this.#size(), free: this.#size() - reserved - taken, reserved, assigned: taken };
  }

  reset(): void {
    this.#reserved.clear();
  }

  #assigned(): Set<string> {
    const addresses = new Set<string>();
    for (const line of this.#store.list()) if (line.ipAddress !== null) addresses.add(line.ipAddress);
    return addresses;
  }
}
