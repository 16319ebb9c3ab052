import type { Faults } from '../../../carriers/simulator-kit/faults.ts';

/** A Rev.io billing account (carrier-apis §6), in Rev's own snake_case. */
export interface RevioCustomer {
  customer_id: number;
  name: string;
  status: 'ACTIVE' | 'CLOSED';
}

export interface RevioServiceType {
  service_type_id: number;
  description: string;
}

/** A catalog product: the recurring charge a service product attaches, at `rate` unless it gives one. */
export interface RevioProduct {
  product_id: number;
  description: string;
  rate: number;
}

/**
 * A custom field every service has (Rev.io lets a tenant define them; its API shows them on a service
 * as `fields: [{field_id, label, value}]`).
 */
export interface RevioServiceFieldDefinition {
  field_id: number;
  label: string;
}

export interface RevioProvider {
  provider_id: number;
  name: string;
}

/** `login@clientcode` → password (HTTP Basic, carrier-apis §6). */
export const revioDefaultUsers: Record<string, string> = { 'demo@bulkchange': 'demo-rev-password' };
/** The API-management subscription keys the gateway lets through. */
export const revioDefaultSubscriptionKeys = ['demo-subscription-key'];

/** Rev.io documents no limits (carrier-apis §7); these keep a client honest about pacing. */
export const revioDefaultFaults: Partial<Faults> = { rateLimitPerSecond: 8, maxConcurrent: 4 };

export const revioCustomers: RevioCustomer[] = [
  { customer_id: 1001, name: 'Acme Logistics', status: 'ACTIVE' },
  { customer_id: 1002, name: 'Northwind Fleet', status: 'ACTIVE' },
  { customer_id: 1003, name: 'Contoso Meters', status: 'ACTIVE' },
  { customer_id: 1009, name: 'Closed Co', status: 'CLOSED' },
];

export const revioServiceTypes: RevioServiceType[] = [
  { service_type_id: 10, description: 'IoT Data' },
  { service_type_id: 11, description: 'Mobility' },
];

export const revioProducts: RevioProduct[] = [
  { product_id: 501, description: 'IoT line fee', rate: 2.5 },
  { product_id: 502, description: 'Static IP', rate: 5 },
  { product_id: 503, description: 'Data 1GB', rate: 8 },
];

export const revioProviders: RevioProvider[] = [
  { provider_id: 1, name: 'AT&T' },
  { provider_id: 2, name: 'Verizon' },
  { provider_id: 3, name: 'Cisco Jasper' },
  { provider_id: 4, name: 'POND' },
  { provider_id: 5, name: 'Teal' },
];

/** Labels as a tenant writes them: a client matches them ignoring spaces and case (original §5.9). */
export const revioServiceFields: RevioServiceFieldDefinition[] = [
  { field_id: 1, label: 'Cost Center 1' },
  { field_id: 2, label: 'Cost Center 2' },
  { field_id: 3, label: 'Cost Center 3' },
];

/** What a simulator bills against: customers change through the admin API, the rest is fixed. */
export interface RevioCatalog {
  customers: RevioCustomer[];
  serviceTypes: RevioServiceType[];
  products: RevioProduct[];
  providers: RevioProvider[];
  serviceFields: RevioServiceFieldDefinition[];
}
