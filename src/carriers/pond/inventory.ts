import type { InventorySource } from '../carrier.ts';
import { activePackages, POND_PAGE_SIZE, type PondClient } from './client.ts';

/**
 * Every line of the distributor, 100 a page. The device list carries no plan, so each line's packages
 * are read too: its carrier rate plan is its newest ACTIVE package's type (none: no plan).
 */
export const pondInventory: InventorySource<PondClient> = {
  async *pages(client, context) {
    for (let offset = 0; ; offset += POND_PAGE_SIZE) {
      const page = await client.listDevices(offset, context);
      const packages = await Promise.all(
        page.items.map((device) => client.listPackages(device.iccid, context)),
      );
      yield page.items.map((device, index) => ({
        iccid: device.iccid,
        imei: device.imei ?? null,
        msisdn: device.msisdn ?? null,
        carrierStatus: device.status,
        carrierRatePlan: activePackages(packages[index]).at(-1)?.packageTypeId ?? null,
      }));
      if (page.items.length < POND_PAGE_SIZE || offset + page.items.length >= page.total) return;
    }
  },
};
