import type { InventorySource } from '../carrier.ts';
import type { JasperClient } from './client.ts';

/** Far enough back to include every line: Control Center's search needs a `modifiedSince`. */
const EVERYTHING_SINCE = '2000-01-01T00:00:00+00:00';

/** Every line of a Control Center account, through the search API, a page of 50 at a time. */
export const jasperInventory: InventorySource<JasperClient> = {
  async *pages(client, context) {
    for (let pageNumber = 1; ; pageNumber++) {
      const page = await client.searchDevices({ modifiedSince: EVERYTHING_SINCE, pageNumber }, context);
      yield page.devices.map((device) => ({
        iccid: device.iccid,
        carrierStatus: device.status,
        carrierRatePlan: device.ratePlan || null,
        communicationPlan: device.communicationPlan || null,
      }));
      if (page.lastPage || page.devices.length === 0) return;
    }
  },
};
