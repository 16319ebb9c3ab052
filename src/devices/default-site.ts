import type { DevicePatch } from '../core/flow.ts';
import type { Executor } from '../db/database.ts';
import { devicesRepository } from './devices-repository.ts';
import { sitesRepository } from './sites-repository.ts';

/**
 * A line a change activates, and which is at no site yet, is put at the tenant's default site in the
 * same commit (the original's SetDefaultSite after ThingSpace activations, which it applied to every
 * line of the page whatever each row did, B23). A tenant without a default site keeps lines unplaced.
 */
export async function withDefaultSite<T extends { deviceId: string; patch: DevicePatch }>(
  db: Executor,
  tenantId: string,
  patches: T[],
): Promise<T[]> {
  const activated = patches.filter(({ patch }) => patch.status === 'active' && patch.siteId === undefined);
  if (activated.length === 0) return patches;
  const site = await sitesRepository(db).findDefault(tenantId);
  if (!site) return patches;
  const lines = await devicesRepository(db).findByIds(activated.map(({ deviceId }) => deviceId));
  return patches.map((entry) =>
    activated.includes(entry) && lines.get(entry.deviceId)?.siteId === null
      ? { ...entry, patch: { ...entry.patch, siteId: site.id } }
      : entry,
  );
}
