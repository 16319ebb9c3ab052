import { z } from 'zod';
import { callContext } from '../carriers/per-line.ts';
import { yesNo } from '../core/field-types.ts';
import type { DeviceRecord, Flow, RowIssue, RowOutcome, WorkRow } from '../core/flow.ts';
import { forEachRow } from '../core/outcomes.ts';
import { activeServices, BILLING_LANES, type BillingClients } from './billing-service.ts';
import { inventoryStep } from './customer-flows.ts';

const archivalRequest = z.object({
  /** Archive although the line used the network in the last 30 days. */
  overrideUsage: yesNo.optional(),
  /** Archive although the line has an active billing service. */
  overrideBilling: yesNo.optional(),
  /** Deprecated (API §3): both overrides at once. */
  override: yesNo.optional(),
});
type ArchivalRequest = z.infer<typeof archivalRequest>;

/** The original's ARCHIVAL_RECENT_USAGE_VALIDATION_DAYS (original §9). */
const RECENT_USAGE_MS = 30 * 86_400_000;

const skipsUsage = (request: ArchivalRequest) => request.overrideUsage === true || request.override === true;
const skipsBilling = (request: ArchivalRequest) =>
  request.overrideBilling === true || request.override === true;

const billedMessage = (services: string) =>
  `The line has an active billing service (${services}); disconnect it, or set overrideBilling`;

/** Intake's checks, against the inventory: the last usage a sync imported, the billing service we know. */
function checkArchival(request: ArchivalRequest, device: DeviceRecord): RowIssue | undefined {
  if (!skipsBilling(request) && device.billingServiceId) {
    return { code: 'ACTIVE_BILLING_SERVICE', message: billedMessage(device.billingServiceId) };
  }
  if (
    !skipsUsage(request) &&
    device.lastUsageAt !== null &&
    device.lastUsageAt > Date.now() - RECENT_USAGE_MS
  ) {
    return {
      code: 'RECENT_USAGE',
      message: `The line used the network on ${new Date(device.lastUsageAt).toISOString().slice(0, 10)}, within 30 days; set overrideUsage to archive it anyway`,
    };
  }
  return undefined;
}

/**
 * Archives lines in the inventory (original §5.3). Intake refuses a line used in the last 30 days (the
 * usage inventory syncs import) or billed as far as the inventory knows; when the rows run, billing
 * itself is asked for the line's active services (the original read only its own copy), so a service
 * added in billing since is seen. Each check has its own override.
 */
export const archival = (billing: BillingClients): Flow<unknown, ArchivalRequest, 'archive'> => ({
  requestSchema: archivalRequest,
  writesToCarrier: false,
  checkRow: checkArchival,
  firstStep: 'archive',
  steps: {
    archive: {
      chunkSize: () => 100,
      async run(rows: WorkRow<ArchivalRequest>[], context) {
        // A tenant without billing (or with its writes off) has only the inventory's record, checked at intake.
        const revio = await billing.client(context.account.tenantId);
        return forEachRow(rows, BILLING_LANES, async (row): Promise<RowOutcome<never>> => {
          if (revio && !skipsBilling(row.request)) {
            const active = await activeServices(revio, row, callContext(row, context));
            if (active.length > 0) {
              const ids = active.map((service) => String(service.service_id));
              return {
                kind: 'failed',
                error: { code: 'ACTIVE_BILLING_SERVICE', message: billedMessage(ids.join(', ')) },
                device: { billingServiceId: ids[0] },
              };
            }
          }
          return { kind: 'succeeded', result: { archived: true }, device: { archived: true } };
        });
      },
    },
  },
});

const unarchiveRequest = z.object({});

/** Restores archived lines to the inventory (the original had no way back). */
export const unarchive: Flow<unknown, z.infer<typeof unarchiveRequest>, 'unarchive'> = {
  requestSchema: unarchiveRequest,
  writesToCarrier: false,
  archivedLinesOnly: true,
  firstStep: 'unarchive',
  steps: { unarchive: inventoryStep(() => ({ archived: false })) },
};
