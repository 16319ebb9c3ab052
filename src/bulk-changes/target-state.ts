import type { ChangeType } from '../core/change-types.ts';
import type { DeviceRecord } from '../core/flow.ts';

/** What a row changes on its line: the field, the inventory's value now and the value asked for. */
export interface TargetState {
  field: string;
  current: string | null;
  target: string;
  /** The line already is what the row asks for: sending it would change nothing. */
  alreadyInTarget: boolean;
}

interface TargetField {
  field: string;
  current: (device: DeviceRecord) => string | null;
  /** Other fields of the row that would still change something when the main one is already there. */
  othersUnchanged?: (request: Record<string, unknown>, device: DeviceRecord) => boolean;
}

/**
 * The change types whose row asks for one value the inventory also holds, so a row can be seen to
 * change nothing. Types that create or swap something (new service, billing, identifiers) are left
 * out: there "the same value" does not mean "nothing to do".
 */
const targetFields: Partial<Record<ChangeType, TargetField>> = {
  status_update: { field: 'targetStatus', current: (device) => device.status },
  carrier_rate_plan_change: {
    field: 'carrierRatePlan',
    current: (device) => device.carrierRatePlan,
    // A new communication plan on the same rate plan is still a change.
    othersUnchanged: (request, device) =>
      request.communicationPlan === undefined || request.communicationPlan === device.communicationPlan,
  },
};

/** Whether rows of this change type ask for one value, so a line can already have it. */
export const setsOneValue = (changeType: ChangeType): boolean => targetFields[changeType] !== undefined;

/** The row's current → target, for the change types that have one. */
export function targetState(
  changeType: ChangeType,
  request: Record<string, unknown>,
  device: DeviceRecord,
): TargetState | undefined {
  const spec = targetFields[changeType];
  const target = spec && request[spec.field];
  if (!spec || typeof target !== 'string') return undefined;
  const current = spec.current(device);
  const alreadyInTarget = current === target && (spec.othersUnchanged?.(request, device) ?? true);
  return { field: spec.field, current, target, alreadyInTarget };
}
