import { devicesRepository, newDevice } from '../../src/devices/devices-repository.ts';
import { newId } from '../../src/shared/ids.ts';
import type { TestService } from './service.ts';

/** One inventory line: the fields of `newDevice` that a test chooses (the service's tenant and ids are filled in). */
export type InventoryLine = Omit<Parameters<typeof newDevice>[0], 'id' | 'tenant_id' | 'carrier_account_id'>;

/** Puts lines straight into the inventory of the service's tenant, on the account: the API has no way to add them. */
export async function insertLines(
  test: TestService,
  accountId: string,
  lines: InventoryLine[],
): Promise<void> {
  const now = Date.now();
  await devicesRepository(test.service.database.db).insertMany(
    lines.map((line) =>
      newDevice({ id: newId(now), tenant_id: test.tenantId, carrier_account_id: accountId, ...line }),
    ),
    now,
  );
}
