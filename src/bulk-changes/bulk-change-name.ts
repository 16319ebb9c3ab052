import type { BulkChange } from '../core/bulk-change.ts';

/** What a status update does, as the verb an operator would use. */
const statusVerbs: Record<string, string> = {
  active: 'Activate',
  suspended: 'Suspend',
  deactivated: 'Deactivate',
  retired: 'Retire',
  inventory: 'Return to inventory',
  pending_activation: 'Pre-activate',
  activation_ready: 'Make activation-ready',
  test_ready: 'Make test-ready',
};

/** What each change type does to "N lines", when the request does not say more. */
const typePhrases: Record<string, string> = {
  status_update: 'Change the status of',
  activate_new_service: 'Activate new service on',
  carrier_rate_plan_change: 'Change the rate plan of',
  identifier_change: 'Swap the SIM or device of',
  customer_rate_plan_change: 'Change the customer rate plan of',
  billing_service_creation: 'Create billing services for',
  username_cost_center_change: 'Set the username or cost centres of',
  archival: 'Archive',
};

const lines = (count: number) => `${count.toLocaleString('en-US')} ${count === 1 ? 'line' : 'lines'}`;

/**
 * A bulk change's name when its creator gave none, from what it does: "Deactivate 500 lines on Jasper
 * (demo)", "Move 20 lines to rate plan M2M-1GB on POND". Made when shown, from the options every row
 * shares (a per-row value is not named), the rows and the account's name now.
 */
export function generatedName(
  change: Pick<BulkChange, 'changeType' | 'options'> & { lines: number },
  accountName: string,
): string {
  const { targetStatus, carrierRatePlan, billingCustomerId } = change.options;
  const count = lines(change.lines);
  let what: string;
  if (
    change.changeType === 'status_update' &&
    typeof targetStatus === 'string' &&
    statusVerbs[targetStatus]
  ) {
    what = `${statusVerbs[targetStatus]} ${count}`;
  } else if (change.changeType === 'carrier_rate_plan_change' && typeof carrierRatePlan === 'string') {
    what = `Move ${count} to rate plan ${carrierRatePlan}`;
  } else if (change.changeType === 'customer_assignment' && typeof billingCustomerId === 'string') {
    what = `Assign ${count} to customer ${billingCustomerId}`;
  } else if (change.changeType === 'customer_assignment') {
    what = `Assign ${count} to a customer`;
  } else {
    what = `${typePhrases[change.changeType] ?? change.changeType} ${count}`;
  }
  return `${what} on ${accountName}`;
}

/** The name shown everywhere: the given one, else the generated one. */
export const bulkChangeName = (
  change: Pick<BulkChange, 'name' | 'changeType' | 'options' | 'counts'>,
  accountName: string,
): string => change.name ?? generatedName({ ...change, lines: change.counts.total }, accountName);
