/** The carriers this platform speaks to (the Jasper family is one carrier with variants). */
export const carrierNames = ['jasper', 'thingspace', 'telegence', 'pond', 'teal'] as const;
export type CarrierName = (typeof carrierNames)[number];

/** What a bulk change does to its lines (DESIGN §1). */
export const changeTypes = [
  'status_update',
  'activate_new_service',
  'carrier_rate_plan_change',
  'identifier_change',
  'customer_rate_plan_change',
  'customer_assignment',
  'billing_service_creation',
  'username_cost_center_change',
  'archival',
  'unarchive',
  'site_assignment',
] as const;
export type ChangeType = (typeof changeTypes)[number];

export const isChangeType = (value: string): value is ChangeType =>
  (changeTypes as readonly string[]).includes(value);

export const isCarrierName = (value: string): value is CarrierName =>
  (carrierNames as readonly string[]).includes(value);
