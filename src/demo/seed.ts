import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { createApiKey, ensureTenant } from '../accounts/api-keys.ts';
import type { CarrierAccounts } from '../accounts/carrier-accounts.ts';
import { carrierAccountsRepository } from '../accounts/carrier-accounts-repository.ts';
import { normaliseJasperStatus } from '../carriers/jasper/statuses.ts';
import { type Db, inTransaction } from '../db/database.ts';
import { devicesRepository, newDevice } from '../devices/devices-repository.ts';
import { newId } from '../shared/ids.ts';
import { demoJasperAccounts, demoJasperCredentials, demoJasperLines } from './demo-data.ts';
import { demoExamples } from './examples.ts';

export const DEMO_TENANT = 'demo';

export interface DemoSimulatorUrls {
  /** Base URL of each Jasper-family account's simulator, by account key. */
  jasper: Record<(typeof demoJasperAccounts)[number]['key'], string>;
}

export interface DemoCatalog {
  jasperRatePlans: ReadonlyArray<{
    code: string;
    name: string;
    dataMb: number | null;
    communicationPlans: readonly string[];
  }>;
}

/**
 * Seeds an empty database with the demo of DESIGN §9: the `demo` tenant, an admin key, one account per
 * Jasper-family variant wired to its simulator, the rate plan catalog and the lines. Returns the key.
 */
export async function seedDemo(options: {
  db: Db;
  accounts: CarrierAccounts;
  simulators: DemoSimulatorUrls;
  catalog: DemoCatalog;
}): Promise<{ apiKey: string; tenantId: string }> {
  const { db, accounts, simulators, catalog } = options;
  return inTransaction(db, async (tx) => {
    const tenantId = await ensureTenant(tx, DEMO_TENANT);
    const { key } = await createApiKey(tx, { tenantId, role: 'admin', name: 'demo admin' });
    const now = Date.now();
    for (const demo of demoJasperAccounts) {
      const account = await accounts.create(
        tenantId,
        {
          name: demo.name,
          carrier: 'jasper',
          baseUrl: simulators.jasper[demo.key],
          credentials: demoJasperCredentials,
          writeEnabled: true,
          settings: { variant: demo.variant, demoSimulator: `jasper:${demo.key}` },
        },
        tx,
      );
      await carrierAccountsRepository(tx).insertRatePlans(
        account.id,
        catalog.jasperRatePlans.map((plan) => ({
          id: newId(now),
          code: plan.code,
          name: plan.name,
          dataMb: plan.dataMb,
          communicationPlan: plan.communicationPlans.join('|'),
        })),
      );
      await devicesRepository(tx).insertMany(
        demoJasperLines(demo, catalog.jasperRatePlans).map((line) =>
          newDevice({
            id: newId(now),
            tenant_id: tenantId,
            carrier_account_id: account.id,
            iccid: line.iccid,
            imei: line.imei,
            msisdn: line.msisdn,
            status: normaliseJasperStatus(line.state),
            carrier_status: line.state,
            carrier_rate_plan: line.ratePlan,
            communication_plan: line.communicationPlan,
          }),
        ),
        now,
      );
    }
    return { apiKey: key, tenantId };
  });
}

/** Where the demo's accounts are, for demo.json (API §6). */
export async function writeDemoFile(options: {
  db: Db;
  dataDir: string;
  baseUrl: string;
  apiKey: string;
  tenantId: string;
  simulators: DemoSimulatorUrls;
  logger: Logger;
}): Promise<string> {
  const accounts = await carrierAccountsRepository(options.db).list(options.tenantId);
  const byDemoKey = new Map(
    accounts.map((account) => [String(account.settings.demoSimulator ?? ''), account]),
  );
  const file = path.join(options.dataDir, 'demo.json');
  const demo = {
    baseUrl: options.baseUrl,
    apiKey: options.apiKey,
    tenant: DEMO_TENANT,
    carrierAccounts: accounts.map((account) => ({
      id: account.id,
      name: account.name,
      carrier: account.carrier,
    })),
    simulators: Object.fromEntries(Object.entries(options.simulators.jasper).map(([key, url]) => [key, url])),
    examples: demoExamples.map((example) => ({
      file: example.file,
      carrierAccountId: byDemoKey.get(example.account)?.id ?? null,
      changeType: example.changeType,
      description: example.description,
    })),
  };
  writeFileSync(file, `${JSON.stringify(demo, null, 2)}\n`, { mode: 0o600 });
  return file;
}
