import type { CarrierName, ChangeType } from '../core/change-types.ts';
import type { CarrierAccount, Flow } from '../core/flow.ts';
import { type AccountReports, type CarrierAdapter, type CarrierKit, unrecordedReports } from './carrier.ts';
import { jasperAdapter } from './jasper/adapter.ts';
import { type QuotaCalendar, utcQuotaCalendar } from './line-quotas.ts';
import { pondAdapter } from './pond/adapter.ts';
import { tealAdapter } from './teal/adapter.ts';
import { telegenceAdapter } from './telegence/adapter.ts';
import { thingSpaceAdapter } from './thingspace/adapter.ts';

/** Every carrier this build speaks to, each sending through clients made by `http`. */
export const carrierAdapters = (kit: CarrierKit): CarrierAdapter[] =>
  [
    jasperAdapter(kit),
    thingSpaceAdapter(kit),
    telegenceAdapter(kit),
    pondAdapter(kit),
    tealAdapter(kit),
  ] as CarrierAdapter[];

/** The carriers of this build, and one client per carrier account (its limiter and circuit live there). */
export class CarrierRegistry {
  readonly #adapters: Map<CarrierName, CarrierAdapter>;
  readonly #clients = new Map<string, { version: number; client: unknown }>();

  readonly #reports: AccountReports;
  /** When the carriers' per-line quotas start again: intake and the engine count with the same one. */
  readonly quotaCalendar: QuotaCalendar;

  constructor(
    adapters: readonly CarrierAdapter[],
    reports: AccountReports = unrecordedReports,
    quotaCalendar: QuotaCalendar = utcQuotaCalendar,
  ) {
    this.#adapters = new Map(adapters.map((adapter) => [adapter.carrier, adapter]));
    this.#reports = reports;
    this.quotaCalendar = quotaCalendar;
  }

  adapter(carrier: CarrierName): CarrierAdapter | undefined {
    return this.#adapters.get(carrier);
  }

  adapters(): CarrierAdapter[] {
    return [...this.#adapters.values()];
  }

  /** The one place a change type's handling on a carrier is looked up (DESIGN §5). */
  flowFor(carrier: CarrierName, changeType: ChangeType): Flow<unknown, unknown, string> | undefined {
    return this.#adapters.get(carrier)?.flows[changeType];
  }

  /** A cached client, rebuilt when the account changed (new credentials, URL or limits). */
  clientFor(account: CarrierAccount, version: number): unknown {
    const cached = this.#clients.get(account.id);
    if (cached && cached.version === version) return cached.client;
    const adapter = this.adapter(account.carrier);
    if (!adapter) throw new Error(`Carrier ${account.carrier} is not supported`);
    const client = adapter.createClient({ account, version, reports: this.#reports });
    this.#clients.set(account.id, { version, client });
    return client;
  }
}
