import path from 'node:path';
import { createApiKey, ensureTenant } from '../accounts/api-keys.ts';
import type { CarrierAccounts } from '../accounts/carrier-accounts.ts';
import { carrierAccountsRepository } from '../accounts/carrier-accounts-repository.ts';
import { systemActor } from '../audit/actor.ts';
import { type Db, inTransaction } from '../db/database.ts';
import { devicesRepository } from '../devices/devices-repository.ts';
import { sitesRepository } from '../devices/sites-repository.ts';
import { newId } from '../shared/ids.ts';
import { writePrivateFile } from '../shared/private-files.ts';
import { demoAccounts, simulatorPath } from './demo-accounts.ts';
import { DEMO_BILLING_KEY } from './demo-billing.ts';
import { demoSites } from './demo-sites.ts';
import { demoExamples } from './examples.ts';

export const DEMO_TENANT = 'demo';

/**
 * Seeds an empty database with the demo of DESIGN §9: the `demo` tenant, an admin key, one account per
 * demo carrier (wired to its simulator at `baseUrl`), rate plan catalogs and lines. Returns the key.
 */
export async function seedDemo(options: {
  db: Db;
  accounts: CarrierAccounts;
  baseUrl: string;
}): Promise<{ apiKey: string; tenantId: string }> {
  const { db, accounts, baseUrl } = options;
  return inTransaction(db, async (tx) => {
    const tenantId = await ensureTenant(tx, DEMO_TENANT);
    const { key } = await createApiKey(tx, {
      tenantId,
      role: 'admin',
      name: 'demo admin',
      actor: systemActor('demo'),
    });
    const now = Date.now();
    for (const demo of demoAccounts) {
      const account = await accounts.create(
        tenantId,
        {
          name: demo.name,
          carrier: demo.carrier,
          baseUrl: `${baseUrl}/simulators/${demo.key}`,
          credentials: demo.credentials(),
          writeEnabled: true,
          settings: demo.settings({ baseUrl, accountId: 'pending' }),
        },
        systemActor('demo'),
        tx,
      );
      await carrierAccountsRepository(tx).insertRatePlans(
        account.id,
        demo.ratePlans.map((plan) => ({
          id: newId(now),
          code: plan.code,
          name: plan.name,
          dataMb: plan.dataMb,
          communicationPlan: plan.communicationPlans.length ? plan.communicationPlans.join('|') : null,
        })),
      );
      await devicesRepository(tx).insertMany(
        demo.lines().map((line) => ({
          id: newId(now),
          tenantId: tenantId,
          carrierAccountId: account.id,
          iccid: line.iccid,
          imei: line.imei,
          msisdn: line.msisdn,
          eid: line.eid ?? null,
          status: line.state ? demo.normalise(line.state) : 'inventory',
          carrierStatus: line.state,
          carrierRatePlan: line.ratePlan,
          communicationPlan: line.communicationPlan,
        })),
        now,
      );
    }
    for (const site of demoSites) {
      await sitesRepository(tx).insert({ ...site, id: newId(now), tenantId, createdAt: now, updatedAt: now });
    }
    return { apiKey: key, tenantId };
  });
}

/** Where the demo's accounts, simulators and examples are: demo.json (API §6). */
export async function writeDemoFile(options: {
  db: Db;
  dataDir: string;
  baseUrl: string;
  apiKey: string;
  tenantId: string;
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
    simulators: Object.fromEntries(
      [...demoAccounts.map((demo) => demo.key), DEMO_BILLING_KEY].map((key) => [
        key,
        `${options.baseUrl}${simulatorPath(key)}`,
      ]),
    ),
    examples: demoExamples.map((example) => ({
      file: example.file,
      carrierAccountId: byDemoKey.get(example.account)?.id ?? null,
      changeType: example.changeType,
      description: example.description,
    })),
  };
  writePrivateFile(file, `${JSON.stringify(demo, null, 2)}\n`);
  return file;
}
