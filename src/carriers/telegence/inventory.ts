import type { InventorySource, LineSnapshot } from '../carrier.ts';
import { characteristicValue, type TelegenceClient, type TelegenceLineDetail } from './client.ts';

const snapshot = (line: TelegenceLineDetail): LineSnapshot | undefined => {
  const values = line.serviceCharacteristic;
  const iccid = characteristicValue(values, 'sim');
  if (!iccid) return undefined;
  return {
    iccid,
    imei: characteristicValue(values, 'BLIMEI') ?? null,
    msisdn: line.subscriberNumber ?? null,
    carrierStatus: characteristicValue(values, 'subscriberStatus') ?? 'A',
    carrierRatePlan: characteristicValue(values, 'singleUserCode') ?? null,
  };
};

/**
 * Every line of the account, 250 a page. Paging goes on to `page-total` whatever a page holds: the
 * original stopped at the first failed page (original §7), here a failed page fails the sync, which is
 * retried as a whole.
 */
export const telegenceInventory: InventorySource<TelegenceClient> = {
  async *pages(client, { audit, signal }) {
    for (let page = 1; ; page++) {
      const { lines, pageTotal } = await client.listLines(page, { audit, signal });
      yield lines.map(snapshot).filter((line): line is LineSnapshot => line !== undefined);
      if (page >= pageTotal || lines.length === 0) return;
    }
  },
};
