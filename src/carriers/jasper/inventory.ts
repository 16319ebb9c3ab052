import type { InventorySource } from '../carrier.ts';
import type { JasperClient } from './client.ts';

const DAY_MS = 86_400_000;
/**
 * Search Devices takes a `modifiedSince`..`modifiedTill` window of at most a year; a minute less leaves
 * room for the clocks of both ends.
 */
export const JASPER_SEARCH_WINDOW_MS = 365 * DAY_MS - 60_000;

/** Control Center writes the window's ends as `yyyy-MM-ddTHH:mm:ss+00:00`. */
export const jasperDateTime = (epochMs: number) => `${new Date(epochMs).toISOString().slice(0, 19)}+00:00`;

/**
 * The windows from `since` to `now`, each at most a year and each starting where the last ended (a line
 * changed on a boundary is read twice and stored once).
 */
export function searchWindows(
  since: number,
  now: number,
): Array<{ modifiedSince: string; modifiedTill: string }> {
  // Whole seconds, as the API writes them: the last window ends after `now`, never before it.
  const first = Math.floor(since / 1000) * 1000;
  const last = Math.ceil(now / 1000) * 1000;
  const windows = [];
  for (let start = first; start < last; start += JASPER_SEARCH_WINDOW_MS) {
    const end = Math.min(start + JASPER_SEARCH_WINDOW_MS, last);
    windows.push({ modifiedSince: jasperDateTime(start), modifiedTill: jasperDateTime(end) });
  }
  return windows;
}

/**
 * Every line of a Control Center account, through Search Devices, 50 a page, one window of at most a
 * year at a time from the account's `inventorySince` to now.
 */
export const jasperInventory: InventorySource<JasperClient> = {
  async *pages(client, context) {
    const since = Date.parse(`${client.settings.inventorySince}T00:00:00Z`);
    for (const window of searchWindows(since, Date.now())) {
      for (let pageNumber = 1; ; pageNumber++) {
        const page = await client.searchDevices({ ...window, pageNumber }, context);
        yield page.devices.map((device) => ({
          iccid: device.iccid,
          carrierStatus: device.status,
          carrierRatePlan: device.ratePlan || null,
          communicationPlan: device.communicationPlan || null,
        }));
        if (page.lastPage || page.devices.length === 0) break;
      }
    }
  },
};
