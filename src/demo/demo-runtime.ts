import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { accountsRepository } from '../accounts/accounts-repository.ts';
import { createApiKey } from '../accounts/api-keys.ts';
import type { CarrierAccounts } from '../accounts/carrier-accounts.ts';
import { carrierAccountsRepository } from '../accounts/carrier-accounts-repository.ts';
import { systemActor } from '../audit/actor.ts';
import type { BillingConnections } from '../billing/billing-connections.ts';
import type { Config } from '../config.ts';
import type { DatabaseHandle } from '../db/database.ts';
import { devicesRepository } from '../devices/devices-repository.ts';
import { demoAccounts, simulatorPath } from './demo-accounts.ts';
import { connectDemoBilling, mountDemoBilling, seedDemoBilling } from './demo-billing.ts';
import { DEMO_TENANT, seedDemo, writeDemoFile } from './seed.ts';

/**
 * The demo (DESIGN §9): every carrier simulator mounted in this process, the demo tenant seeded on
 * first start, and on every start the accounts pointed at this address and the simulators loaded from
 * the inventory, so the two agree.
 */
export async function startDemo(options: {
  app: FastifyInstance;
  database: DatabaseHandle;
  accounts: CarrierAccounts;
  billing: BillingConnections;
  config: Config;
  logger: Logger;
}) {
  const { app, database, accounts, billing, config, logger } = options;
  for (const demo of demoAccounts) {
    await app.register(demo.simulator().plugin, { prefix: simulatorPath(demo.key) });
  }
  await mountDemoBilling(app);

  return {
    /** Runs once the API listens: the simulators' URLs depend on the address. */
    async ready(baseUrl: string) {
      const demoFile = path.join(config.BULKCHANGE_DATA_DIR, 'demo.json');
      const tenant = await accountsRepository(database.db).findTenantByName(DEMO_TENANT);
      let apiKey: string;
      let tenantId: string;
      if (!tenant) {
        ({ apiKey, tenantId } = await seedDemo({ db: database.db, accounts, baseUrl }));
        await seedDemoBilling(database.db, tenantId);
        logger.info('demo data seeded');
      } else {
        tenantId = tenant.id;
        apiKey =
          existingKey(demoFile) ??
          (
            await createApiKey(database.db, {
              tenantId,
              role: 'admin',
              name: 'demo admin',
              actor: systemActor('demo'),
            })
          ).key;
      }
      await connectSimulators(app, database, tenantId, baseUrl);
      await connectDemoBilling({ app, db: database.db, billing, tenantId, baseUrl });
      const file = await writeDemoFile({
        db: database.db,
        dataDir: config.BULKCHANGE_DATA_DIR,
        baseUrl,
        apiKey,
        tenantId,
      });
      logger.info({ url: baseUrl, demoFile: file }, 'demo ready');
      return { url: baseUrl, apiKey, file };
    },
  };
}

function existingKey(file: string): string | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')).apiKey;
  } catch {
    return undefined;
  }
}

/** Points each demo account at this address and loads its simulator with the account's lines. */
async function connectSimulators(
  app: FastifyInstance,
  database: DatabaseHandle,
  tenantId: string,
  baseUrl: string,
) {
  const repository = carrierAccountsRepository(database.db);
  for (const account of await repository.list(tenantId)) {
    const demo = demoAccounts.find((candidate) => candidate.key === account.settings.demoSimulator);
    if (!demo) continue;
    const where = { baseUrl: `${baseUrl}${simulatorPath(demo.key)}`, accountId: account.id };
    const settings = { ...account.settings, ...demo.settings({ baseUrl, accountId: account.id }) };
    if (account.baseUrl !== where.baseUrl || JSON.stringify(settings) !== JSON.stringify(account.settings)) {
      await repository.update(tenantId, account.id, { baseUrl: where.baseUrl, settings });
    }
    const seeds = (await devicesRepository(database.db).listByAccount(account.id)).flatMap(
      (line) => demo.seedOf(line) ?? [],
    );
    const response = await app.inject({
      method: 'POST',
      url: `${simulatorPath(demo.key)}/_sim/devices`,
      payload: seeds,
    });
    if (response.statusCode >= 300)
      throw new Error(`Loading the ${demo.key} simulator failed: ${response.body}`);
  }
}
