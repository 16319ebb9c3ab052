import type { InventorySource } from '../carrier.ts';
import { TEAL_MAX_ENTRIES, type TealClient } from './client.ts';

/** Every eSIM of the account, 100 a page (Teal's largest), with its EID, state and plan UUID. */
export const tealInventory: InventorySource<TealClient> = {
  async *pages(client, context) {
    for (let offset = 0; ; offset += TEAL_MAX_ENTRIES) {
      const page = await client.listEsims(offset, context);
      yield page.entries.map((esim) => ({
        iccid: esim.iccid,
        eid: esim.eid,
        msisdn: esim.msisdn ?? null,
        carrierStatus: esim.state,
        carrierRatePlan: esim.planUuid ?? null,
      }));
      if (page.entries.length < TEAL_MAX_ENTRIES || offset + page.entries.length >= page.total) return;
    }
  },
};
