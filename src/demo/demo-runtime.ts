import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { accountsRepository } from '../accounts/accounts-repository.ts';
import { createApiKey } from '../accounts/api-keys.ts';
import type { CarrierAccounts } from '../accounts/carrier-accounts.ts';
import { carrierAccountsRepository } from '../accounts/carrier-accounts-repository.ts';
import { createJasperSimulator, jasperRatePlans } from '../carriers/jasper/simulator.ts';
import type { Config } from '../config.ts';
import type { DatabaseHandle } from '../db/database.ts';
import { devicesRepository } from '../devices/devices-repository.ts';
import { demoJasperAccounts } from './demo-data.ts';
import { DEMO_TENANT, type DemoSimulatorUrls, seedDemo, writeDemoFile } from './seed.ts';

const simulatorPath = (key: string) => `/simulators/jasper-${key}`;

const planSizes: Record<string, number | null> = {
  'IoT Basic 1MB': 1,
  'IoT 10MB': 10,
  'IoT 100MB': 100,
  'IoT 1GB': 1024,
  'IoT Unlimited': null,
};

/**
 * The demo (DESIGN §9): every carrier simulator mounted in this process, the demo tenant seeded on
 * first start, and on every start the simulators loaded from the inventory so the two agree.
 */
export async function startDemo(options: {
  app: FastifyInstance;
  database: DatabaseHandle;
  accounts: CarrierAccounts;
  config: Config;
  logger: Logger;
}) {
  const { app, database, accounts, config, logger } = options;
  for (const demo of demoJasperAccounts) {
    await app.register(createJasperSimulator().plugin, { prefix: simulatorPath(demo.key) });
  }

  return {
    /** Runs once the API listens: the simulators' URLs depend on the address. */
    async ready(baseUrl: string) {
      const simulators: DemoSimulatorUrls = {
        jasper: Object.fromEntries(
          demoJasperAccounts.map((demo) => [demo.key, `${baseUrl}${simulatorPath(demo.key)}`]),
        ) as DemoSimulatorUrls['jasper'],
      };
      const demoFile = path.join(config.BULKCHANGE_DATA_DIR, 'demo.json');
      const tenant = await accountsRepository(database.db).findTenantByName(DEMO_TENANT);
      let apiKey: string;
      let tenantId: string;
      if (!tenant) {
        ({ apiKey, tenantId } = await seedDemo({
          db: database.db,
          accounts,
          simulators,
          catalog: {
            jasperRatePlans: jasperRatePlans.map((plan) => ({
              ...plan,
              name: plan.code,
              dataMb: planSizes[plan.code] ?? null,
            })),
          },
        }));
        logger.info('demo data seeded');
      } else {
        tenantId = tenant.id;
        apiKey =
          existingKey(demoFile) ??
          (await createApiKey(database.db, { tenantId, role: 'admin', name: 'demo admin' })).key;
      }
      await loadSimulators(app, database, tenantId, simulators);
      const file = await writeDemoFile({
        db: database.db,
        dataDir: config.BULKCHANGE_DATA_DIR,
        baseUrl,
        apiKey,
        tenantId,
        simulators,
        logger,
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

/** Points each demo account at its simulator at this address and loads the simulator with its lines. */
async function loadSimulators(
  app: FastifyInstance,
  database: DatabaseHandle,
  tenantId: string,
  simulators: DemoSimulatorUrls,
) {
  const repository = carrierAccountsRepository(database.db);
  for (const account of await repository.list(tenantId)) {
    const demoKey = String(account.settings.demoSimulator ?? '');
    if (!demoKey.startsWith('jasper:')) continue;
    const key = demoKey.slice('jasper:'.length) as keyof DemoSimulatorUrls['jasper'];
    if (!simulators.jasper[key]) continue;
    if (account.baseUrl !== simulators.jasper[key]) {
      await repository.update(tenantId, account.id, { baseUrl: simulators.jasper[key] });
    }
    const lines = await devicesRepository(database.db).listByAccount(account.id);
    const response = await app.inject({
      method: 'POST',
      url: `${simulatorPath(key)}/_sim/devices`,
      payload: lines.map((line) => ({
        iccid: line.iccid,
        imei: line.imei,
        msisdn: line.msisdn,
        state: line.carrier_status ?? 'INVENTORY',
        ratePlan: line.carrier_rate_plan,
        communicationPlan: line.communication_plan,
      })),
    });
    if (response.statusCode >= 300) throw new Error(`Seeding the ${key} simulator failed: ${response.body}`);
  }
}
