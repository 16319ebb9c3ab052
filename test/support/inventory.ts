import { devicesRepository, type NewDevice } from '../../src/devices/devices-repository.ts';
import { newId } from '../../src/shared/ids.ts';
import type { TestService } from './service.ts';

/** One inventory line: the fields a test chooses (the service's tenant and ids are filled in). */
export type InventoryLine = Omit<NewDevice, 'id' | 'tenantId' | 'carrierAccountId'>;

/** Puts lines straight into the inventory of the service's tenant, on the account: the API has no way to add them. */
export async function insertLines(
  test: TestService,
  accountId: string,
  lines: InventoryLine[],
): Promise<void> {
  const now = Date.now();
  await devicesRepository(test.service.database.db).insertMany(
    lines.map((line) => ({ id: newId(now), tenantId: test.tenantId, carrierAccountId: accountId, ...line })),
    now,
  );
}
