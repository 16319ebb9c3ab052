import type { InventorySource } from '../carrier.ts';
import type { ThingSpaceClient } from './client.ts';

/**
 * Every line of the account, through List Devices Information a page at a time: each page continues
 * after the `DeviceId` of the previous page's last device (`largestDeviceIdSeen`), until ThingSpace
 * answers `hasMoreData: false`.
 */
export const thingSpaceInventory: InventorySource<ThingSpaceClient> = {
  async *pages(client, context) {
    let after: number | undefined;
    do {
      const page = await client.listDevices(after, context);
      yield page.lines.map((line) => ({
        iccid: line.iccid,
        imei: line.imei,
        msisdn: line.msisdn,
        carrierStatus: line.state,
        carrierRatePlan: line.servicePlan,
        lastUsageAt: line.lastConnectionAt,
      }));
      after = page.next;
    } while (after !== undefined);
  },
};
