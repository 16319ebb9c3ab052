import type { InventorySource } from '../carrier.ts';
import type { CallContext } from '../http/call.ts';
import { TEAL_MAX_ENTRIES, type TealClient } from './client.ts';

const DAY_MS = 86_400_000;

/** How far back usage is read: the archival check's 30 days, counted from the start of a UTC day. */
const USAGE_DAYS = 30;

/**
 * Every eSIM of the account, 100 a page (Teal's largest), with its EID, state and plan UUID, and the
 * last day of the past 30 on which it used data (its `DAILY` data consumption, read first). A line with
 * no usage in that window reports none, so it keeps what an earlier sync found.
 */
export const tealInventory: InventorySource<TealClient> = {
  async *pages(client, context) {
    const lastUsage = await lastUsageByEid(client, context);
    for (let offset = 0; ; offset += TEAL_MAX_ENTRIES) {
      const page = await client.listEsims(offset, context);
      yield page.entries.map((esim) => ({
        iccid: esim.iccid,
        eid: esim.eid,
        msisdn: esim.msisdn ?? null,
        carrierStatus: esim.state,
        carrierRatePlan: esim.planUuid ?? null,
        lastUsageAt: lastUsage.get(esim.eid) ?? null,
      }));
      if (page.entries.length < TEAL_MAX_ENTRIES || offset + page.entries.length >= page.total) return;
    }
  },
};

/** EID → the start (epoch ms) of the latest day with data used, over the last 30 days. */
async function lastUsageByEid(client: TealClient, context: CallContext): Promise<Map<string, number>> {
  const to = Date.now();
  const from = to - (to % DAY_MS) - USAGE_DAYS * DAY_MS;
  const lastUsage = new Map<string, number>();
  for (let offset = 0; ; offset += TEAL_MAX_ENTRIES) {
    const page = await client.dataConsumption({ dataType: 'DAILY', from, to }, offset, context);
    for (const { eid, periodStart, bytes } of page.entries) {
      if (bytes > 0 && periodStart > (lastUsage.get(eid) ?? Number.NEGATIVE_INFINITY)) {
        lastUsage.set(eid, periodStart);
      }
    }
    if (page.entries.length < TEAL_MAX_ENTRIES || offset + page.entries.length >= page.total) {
      return lastUsage;
    }
  }
}
