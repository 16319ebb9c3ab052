import { withSharedFlows } from '../billing/shared-flows.ts';
import type { CarrierAccount, CarrierAdapter, CarrierName } from './carrier.ts';
import { type CarrierHttpClientFactory, createCarrierHttpClient } from './http-factory.ts';
import { jasperAdapter } from './jasper/adapter.ts';
import { pondAdapter } from './pond/adapter.ts';
import { tealAdapter } from './teal/adapter.ts';
import { telegenceAdapter } from './telegence/adapter.ts';
import { thingSpaceAdapter } from './thingspace/adapter.ts';

/** The carriers this build supports, and one client per carrier account (its limiter and circuit live there). */
export class CarrierRegistry {
  readonly #adapters: Map<CarrierName, CarrierAdapter>;
  readonly #clients = new Map<string, { version: number; client: unknown }>();

  constructor(http: CarrierHttpClientFactory = createCarrierHttpClient) {
    const adapters = [
      jasperAdapter(http),
      thingSpaceAdapter(http),
      telegenceAdapter(http),
      pondAdapter(http),
      tealAdapter(http),
    ] as CarrierAdapter[];
    this.#adapters = new Map(adapters.map((adapter) => [adapter.carrier, withSharedFlows(adapter)]));
  }

  adapter(carrier: string): CarrierAdapter | undefined {
    return this.#adapters.get(carrier as CarrierName);
  }

  adapters(): CarrierAdapter[] {
    return [...this.#adapters.values()];
  }

  /** A cached client, rebuilt when the account changed (new credentials, URL or limits). */
  clientFor(account: CarrierAccount, version: number): unknown {
    const cached = this.#clients.get(account.id);
    if (cached && cached.version === version) return cached.client;
    const adapter = this.adapter(account.carrier);
    if (!adapter) throw new Error(`Carrier ${account.carrier} is not supported`);
    const client = adapter.createClient({ account });
    this.#clients.set(account.id, { version, client });
    return client;
  }
}
