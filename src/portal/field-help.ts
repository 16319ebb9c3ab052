/**
 * One sentence per row field, shown under its control on the new bulk change form: what the value
 * does, in the operator's words. A field without an entry shows only its label.
 */
export const fieldHelp: Record<string, string> = {
  targetStatus:
    'The status every line moves to. Lines already in it are skipped unless you choose otherwise.',
  reasonCode: "The carrier's reason for the status change, where it asks for one.",
  servicePlan: 'The service plan a line is activated on (ThingSpace); the account may have a default.',
  mdnZipCode: 'The ZIP code the new number is taken from (ThingSpace activation).',
  carrierRatePlan: "The carrier rate plan the lines move to, from the account's rate plan catalog.",
  communicationPlan: 'The communication plan that goes with the rate plan (Jasper family).',
  effectiveDate: 'The day the change takes effect; the bulk change waits until then.',
  billingCustomerId: 'The billing customer the lines belong to, from the billing catalog.',
  customerRatePlanId: 'The customer rate plan billed for the lines, from the billing catalog.',
  customerPoolId: 'The customer pool the lines share, from the billing catalog.',
  dataAllocationMb: 'Data allocated to each line, in megabytes.',
  createBillingService: 'Also create the billing service (and its products) in Rev.io.',
  newIccid: 'The ICCID of the new SIM (a SIM swap): usually per row, in a new_iccid column.',
  newImei: 'The IMEI of the new device: usually per row, in a new_imei column.',
  override: 'Archive lines even with active billing services or recent usage.',
};
