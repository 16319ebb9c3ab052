import { type CarrierAdapter, type CarrierKit, unrecordedReports } from '../../src/carriers/carrier.ts';
import type { CallContext } from '../../src/carriers/http/call.ts';
import { carrierHttpClients } from '../../src/carriers/http/factory.ts';
import { LimiterRegistry } from '../../src/carriers/limits/limiter.ts';
import type { AuditRecord } from '../../src/core/audit-record.ts';
import type { CarrierAccount } from '../../src/core/flow.ts';

/** The carrier kit production builds (real HTTP clients, per-account limiters), for one test. */
export const testKit = (): CarrierKit => {
  const limiters = new LimiterRegistry();
  return { http: carrierHttpClients(limiters), limiters };
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
  adapter.createClient({ account, reports: unrecordedReports });

/** A call context that keeps the audit records, as the engine's does. */
export const auditedContext = (): CallContext & { records: AuditRecord[] } => {
  const records: AuditRecord[] = [];
  return { records, audit: (record) => records.push(record) };
};
