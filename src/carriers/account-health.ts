import type { AuditRecord } from '../core/audit-record.ts';
import type { CarrierHttpClient } from './http/client.ts';
import type { CarrierHttpClientFactory } from './http/factory.ts';
import type { BreakerState } from './limits/circuit.ts';

/** Seconds of history kept per account: enough for a minute-long chart, small enough to keep forever. */
export const HEALTH_WINDOW_SECONDS = 60;

/** Requests per second are averaged over this many of the last whole seconds. */
const RATE_SECONDS = 10;

interface Second {
  at: number;
  requests: number;
  faults: number;
}

export interface AccountHealthSnapshot {
  /** Calls started in each of the last {@link HEALTH_WINDOW_SECONDS} seconds, oldest first. */
  requestsPerSecondSeries: number[];
  /** Of those, the carrier's faults (transient or auth), oldest first. */
  faultsPerSecondSeries: number[];
  /** Average over the last {@link RATE_SECONDS} whole seconds. */
  requestsPerSecond: number;
  /** Faults / calls over the window; null without calls. */
  errorRate: number | null;
  calls: number;
  /** Of the account's current client in this process; `unknown` before its first client exists. */
  circuit: BreakerState | 'unknown';
}

/**
 * Live health of each carrier account as this process sees it: a rolling per-second count of carrier
 * calls and faults, and the circuit breaker state of the account's HTTP client. A rejected line or a
 * business rule is the carrier answering, so only transient and auth failures count as faults, as
 * they do for the breaker.
 */
export class AccountHealth {
  readonly #seconds = new Map<string, Second[]>();
  readonly #clients = new Map<string, CarrierHttpClient>();

  record(accountId: string, call: Pick<AuditRecord, 'at' | 'outcome'>): void {
    const at = Math.floor(call.at / 1000);
    const ring = this.#ring(accountId);
    const slot = ring[at % HEALTH_WINDOW_SECONDS];
    if (slot.at !== at) Object.assign(slot, { at, requests: 0, faults: 0 });
    slot.requests += 1;
    if (call.outcome === 'transient' || call.outcome === 'auth') slot.faults += 1;
  }

  /** The account's newest client; the registry replaces clients when the account changes. */
  watch(accountId: string, client: CarrierHttpClient): void {
    this.#clients.set(accountId, client);
  }

  /** The circuit of every account this process has a client for, as this process sees it. */
  *circuits(): Iterable<[accountId: string, state: BreakerState]> {
    for (const [accountId, client] of this.#clients) yield [accountId, client.breakerState()];
  }

  snapshot(accountId: string, now = Date.now()): AccountHealthSnapshot {
    const ring = this.#seconds.get(accountId);
    const current = Math.floor(now / 1000);
    const requests: number[] = [];
    const faults: number[] = [];
    for (let second = current - HEALTH_WINDOW_SECONDS + 1; second <= current; second++) {
      const slot = ring?.[second % HEALTH_WINDOW_SECONDS];
      const counted = slot?.at === second;
      requests.push(counted ? slot.requests : 0);
      faults.push(counted ? slot.faults : 0);
    }
    const calls = sum(requests);
    // The current second is still filling up: the rate is read from whole seconds only.
    const recent = requests.slice(-RATE_SECONDS - 1, -1);
    return {
      requestsPerSecondSeries: requests,
      faultsPerSecondSeries: faults,
      requestsPerSecond: sum(recent) / RATE_SECONDS,
      errorRate: calls === 0 ? null : sum(faults) / calls,
      calls,
      circuit: this.#clients.get(accountId)?.breakerState() ?? 'unknown',
    };
  }

  #ring(accountId: string): Second[] {
    let ring = this.#seconds.get(accountId);
    if (!ring) {
      ring = Array.from({ length: HEALTH_WINDOW_SECONDS }, () => ({ at: -1, requests: 0, faults: 0 }));
      this.#seconds.set(accountId, ring);
    }
    return ring;
  }
}

const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);

/**
 * A client factory that reports every HTTP attempt of an account's clients to `health` (and to
 * `observe`: metrics) and lets it read their circuit state. It wraps the client's `send` so that every carrier, present and future,
 * is observed without knowing about it.
 */
export function observedHttpFactory(
  health: AccountHealth,
  base: CarrierHttpClientFactory,
  observe: (record: AuditRecord) => void = () => {},
): CarrierHttpClientFactory {
  return (account, options) => {
    const client = base(account, options);
    health.watch(account.id, client);
    const send = client.send.bind(client);
    client.send = (call, context) =>
      send(call, {
        ...context,
        audit: (record) => {
          health.record(account.id, record);
          observe(record);
          context.audit(record);
        },
      });
    return client;
  };
}
