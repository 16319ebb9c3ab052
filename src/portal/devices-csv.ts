import { csvFile, linesOf } from '../bulk-changes/table-files.ts';
import type { Device } from '../devices/devices-repository.ts';
import { deviceView } from '../devices/devices-service.ts';

/**
 * The columns of the devices export: the API's line fields in CSV's snake_case, so the file goes back
 * in as a bulk change (keep `iccid` and a field column) without renaming anything.
 */
const columns = [
  'iccid',
  'imei',
  'msisdn',
  'eid',
  'status',
  'carrier_status',
  'carrier_rate_plan',
  'communication_plan',
  'billing_customer_id',
  'customer_rate_plan_id',
  'customer_pool_id',
  'ip_address',
  'carrier_account',
  'updated_at',
];

const line = (device: Device, accountName: string) => {
  const view = deviceView(device);
  return [
    view.iccid,
    view.imei,
    view.msisdn,
    view.eid,
    view.status,
    view.carrierStatus,
    view.carrierRatePlan,
    view.communicationPlan,
    view.billingCustomerId,
    view.customerRatePlanId,
    view.customerPoolId,
    view.ipAddress,
    accountName,
    view.updatedAt,
  ];
};

/** The lines as CSV (formula-escaped, like the results), written as they are read, with backpressure. */
export function devicesCsv(lines: AsyncIterable<Device>, accountNames: ReadonlyMap<string, string>) {
  return csvFile(
    columns,
    linesOf(lines, (device) =>
      line(device, accountNames.get(device.carrierAccountId) ?? device.carrierAccountId),
    ),
  );
}
