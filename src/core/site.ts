/**
 * A tenant's site: where its lines are used. Its address is the place of use a carrier wants on
 * activation (ThingSpace's `primaryPlaceOfUse`), the contact the name on it.
 */
export interface Site {
  id: string;
  name: string;
  contactFirstName: string | null;
  contactLastName: string | null;
  addressLine1: string;
  addressLine2: string | null;
  city: string;
  state: string;
  zipCode: string;
  country: string;
  isDefault: boolean;
}
