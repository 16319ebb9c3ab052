import { type CarrierAdapter, type CarrierKit, unrecordedReports } from '../../src/carriers/carrier.ts';
import { OutboundAddressPolicy } from '../../src/carriers/http/address-policy.ts';
import { outboundAgent } from '../../src/carriers/http/agent.ts';
import type { CallContext } from '../../src/carriers/http/call.ts';
import { carrierHttpClients } from '../../src/carriers/http/factory.ts';
import { LocalGuards } from '../../src/carriers/limits/local-guards.ts';
import type { AuditRecord } from '../../src/core/audit-record.ts';
import type { CarrierAccount } from '../../src/core/flow.ts';

/** The simulators and recording proxies listen on loopback, which the address policy refuses by default. */
const loopbackAgent = outboundAgent(new OutboundAddressPolicy(['127.0.0.0/8']));

/** The carrier kit production builds (real HTTP clients, per-account guards), for one test. */
export const testKit = (): CarrierKit => {
  const guards = new LocalGuards();
  return { http: carrierHttpClients(guards, loopbackAgent), guards };
};

/** A carrier account as the engine hands it to a client, with the adapter's default limits. */
export const testAccount = (
  adapter: CarrierAdapter,
  fields: { baseUrl: string; credentials: Record<string, unknown>; settings?: Record<string, unknown> },
): CarrierAccount => ({
  id: `contract-${adapter.carrier}`,
  tenantId: 'contract',
  name: `${adapter.carrier} contract`,
  carrier: adapter.carrier,
  baseUrl: fields.baseUrl,
  credentials: fields.credentials,
  writeEnabled: true,
  settings: fields.settings ?? {},
  limits: { ...adapter.defaultLimits, requestsPerSecond: null, maxConcurrent: 8 },
});

/** The real client of `adapter` for `account`, built as the registry builds it. */
export const clientOf = <TClient>(adapter: CarrierAdapter<TClient>, account: CarrierAccount): TClient =>
  adapter.createClient({ account, version: 1, reports: unrecordedReports });

/** A call context that keeps the audit records, as the engine's does. */
export const auditedContext = (): CallContext & { records: AuditRecord[] } => {
  const records: AuditRecord[] = [];
  return { records, audit: (record) => records.push(record) };
};
