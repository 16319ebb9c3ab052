import type { DeviceChange } from '../core/bulk-change.ts';

type Source = Pick<DeviceChange, 'request' | 'result' | 'carrierRequestId'>;

const text = (value: unknown): string | null =>
  typeof value === 'string' && value !== '' ? value : typeof value === 'number' ? String(value) : null;

const previous = (change: Source, field: 'iccid' | 'imei') => {
  const before = change.result?.previous;
  return before && typeof before === 'object' ? text((before as Record<string, unknown>)[field]) : null;
};

/**
 * What a row produced or asked for, as explicit columns beside the JSON `result` (issue 18 item 2): an
 * operator reads a new line's number and address, a swapped SIM or the carrier's request id without
 * opening JSON. Flows name these values differently (ThingSpace's `newIccid`, Telegence's `iccid`), so
 * each column says where it looks, in order. One list feeds the results CSV, the XLSX and the API view.
 */
export const resultColumns = [
  { csv: 'new_msisdn', json: 'newMsisdn', value: (change: Source) => text(change.result?.msisdn) },
  { csv: 'ip_address', json: 'ipAddress', value: (change: Source) => text(change.result?.ipAddress) },
  {
    csv: 'previous_iccid',
    json: 'previousIccid',
    value: (change: Source) => previous(change, 'iccid'),
  },
  {
    csv: 'new_iccid',
    json: 'newIccid',
    value: (change: Source) => text(change.result?.newIccid) ?? text(change.result?.iccid),
  },
  {
    csv: 'previous_imei',
    json: 'previousImei',
    value: (change: Source) => previous(change, 'imei'),
  },
  {
    csv: 'new_imei',
    json: 'newImei',
    value: (change: Source) => text(change.result?.newImei) ?? text(change.result?.imei),
  },
  {
    csv: 'target_status',
    json: 'targetStatus',
    value: (change: Source) => text(change.request.targetStatus),
  },
  {
    csv: 'rate_plan',
    json: 'ratePlan',
    // What the carrier confirmed, else what was asked (a Telegence activation's plan is `ratePlan`).
    value: (change: Source) =>
      text(change.result?.carrierRatePlan) ??
      text(change.request.carrierRatePlan) ??
      text(change.request.ratePlan),
  },
  {
    csv: 'carrier_request_id',
    json: 'carrierRequestId',
    value: (change: Source) =>
      change.carrierRequestId ?? text(change.result?.requestId) ?? text(change.result?.activationId),
  },
  {
    csv: 'billing_service_id',
    json: 'billingServiceId',
    value: (change: Source) => text(change.result?.billingServiceId),
  },
] as const;

export type ResultColumnName = (typeof resultColumns)[number]['json'];

/** The explicit columns of one row, by their JSON names (the API row view). */
export const resultColumnValues = (change: Source) =>
  Object.fromEntries(resultColumns.map((column) => [column.json, column.value(change)])) as Record<
    ResultColumnName,
    string | null
  >;
