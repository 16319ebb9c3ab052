import type { SiteInput } from '../devices/sites-repository.ts';

/**
 * The demo tenant's sites, for `examples/site-assignment.csv`. None is the default: the demo's
 * ThingSpace activations keep the account's place of use unless an operator makes one the default.
 */
export const demoSites: SiteInput[] = [
  {
    name: 'Wenatchee depot',
    contactFirstName: 'Fleet',
    contactLastName: 'Operations',
    addressLine1: '1 Main St',
    addressLine2: null,
    city: 'Wenatchee',
    state: 'WA',
    zipCode: '98801',
    country: 'USA',
    isDefault: false,
  },
  {
    name: 'Seattle office',
    contactFirstName: 'Fleet',
    contactLastName: 'Office',
    addressLine1: '400 Pine St',
    addressLine2: null,
    city: 'Seattle',
    state: 'WA',
    zipCode: '98101',
    country: 'USA',
    isDefault: false,
  },
];
