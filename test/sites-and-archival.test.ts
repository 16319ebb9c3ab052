import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { createRevioSimulator } from '../src/billing/revio/simulator/simulator.ts';
import { revioConnection } from './support/billing-connection.ts';
import { byIccid, changesOf, postChange, submitChange } from './support/bulk-changes.ts';
import { testDialects } from './support/databases.ts';
import { simAdmin } from './support/processes.ts';
import { serviceForSuite, waitForFinish } from './support/service.ts';
import { thingSpaceLines } from './support/thingspace-lines.ts';

type Site = { id: string; name: string; isDefault: boolean };
type Line = {
  iccid: string;
  status: string;
  siteId: string | null;
  archived: boolean;
  lastUsageAt: string | null;
  billingServiceId: string | null;
};
type SimLine = {
  iccid: string;
  primaryPlaceOfUse: {
    customerName: { firstName: string; lastName: string };
    address: { addressLine1: string; city: string; zip: string };
  } | null;
};
type Change = { row: number; status: string; error: { code: string; message: string } | null };
type RevioService = { id: number; number2: string; status: string };

const DAY = 86_400_000;

for (const dialect of testDialects) {
  describe(`Sites and archival on ${dialect}`, () => {
    const test = serviceForSuite(dialect);
    let prefix = 8901700;
    const lines = (count: number, state: string | null) => {
      prefix += 1;
      return thingSpaceLines(test, { count, state, prefix: String(prefix) });
    };
    const inventory = async (accountId: string) =>
      (await test.api<{ items: Line[] }>('GET', `/api/v1/devices?carrierAccountId=${accountId}&limit=1000`))
        .body.items;
    const lineOf = async (accountId: string, iccid: string) =>
      (await inventory(accountId)).find((line) => line.iccid === iccid)!;
    const addSite = (body: Record<string, unknown>) => test.api<Site>('POST', '/api/v1/sites', { body });

    describe('sites', () => {
      let headOffice: Site;
      let depot: Site;
      before(async () => {
        const created = await addSite({
          name: 'Head office',
          contactFirstName: 'Ford',
          contactLastName: 'Prefect',
          addressLine1: '1 Main St',
          city: 'Wenatchee',
          state: 'WA',
          zipCode: '98801',
          isDefault: true,
        });
        assert.equal(created.status, 201, created.text);
        headOffice = created.body;
        const second = await addSite({
          name: 'Depot',
          contactFirstName: 'Arthur',
          contactLastName: 'Dent',
          addressLine1: '155 Country Lane',
          city: 'Cottington',
          state: 'OR',
          zipCode: '97001',
        });
        assert.equal(second.status, 201, second.text);
        depot = second.body;
      });

      it('keeps a catalog per tenant: one default, names unique, bad fields a 422, another tenant sees none', async () => {
        const listed = await test.api<{ items: Site[] }>('GET', '/api/v1/sites');
        assert.deepEqual(
          listed.body.items.map((site) => [site.name, site.isDefault]),
          [
            ['Depot', false],
            ['Head office', true],
          ],
        );
        const taken = await addSite({
          name: 'Depot',
          addressLine1: 'x',
          city: 'x',
          state: 'x',
          zipCode: '12345',
        });
        assert.equal(taken.status, 409);
        assert.equal((taken.body as unknown as { error: { code: string } }).error.code, 'SITE_NAME_TAKEN');
        const bad = await addSite({ name: 'Nowhere', addressLine1: '', city: 'x', state: 'x', zipCode: '!' });
        assert.equal(bad.status, 422, bad.text);
        const otherKey = await test.keyFor('other-tenant', 'admin');
        const theirs = await test.api<{ items: Site[] }>('GET', '/api/v1/sites', { key: otherKey });
        assert.deepEqual(theirs.body.items, []);
        const hidden = await test.api('GET', `/api/v1/sites/${depot.id}`, { key: otherKey });
        assert.equal(hidden.status, 404);
        const viewer = await test.keyFor('acme', 'viewer');
        const refused = await test.api('POST', '/api/v1/sites', { key: viewer, body: { name: 'x' } });
        assert.equal(refused.status, 403);
      });

      it('activates a line at the default site, sending its address as the place of use; a site_assignment CSV names the site', async () => {
        const fx = await lines(3, 'pre-active');
        // Line 0 activates with no site of its own: the default site's address goes to ThingSpace.
        const activated = await submitChange(test, fx.accountId, [{ iccid: fx.iccids[0] }], 'status_update', {
          targetStatus: 'active',
        });
        assert.equal((await waitForFinish(test, activated, 30_000)).status, 'completed');
        assert.equal((await lineOf(fx.accountId, fx.iccids[0])).siteId, headOffice.id);

        // Line 1 is put at the depot by a CSV whose "Site" column holds the site's name.
        const csv = `ICCID,Site\n${fx.iccids[1]},Depot\n`;
        const assigned = await test.api<{ id: string }>(
          'POST',
          `/api/v1/bulk-changes?carrierAccountId=${fx.accountId}&changeType=site_assignment`,
          { body: csv, contentType: 'text/csv' },
        );
        assert.equal(assigned.status, 201, assigned.text);
        assert.equal((await waitForFinish(test, assigned.body.id)).status, 'completed');
        assert.equal((await lineOf(fx.accountId, fx.iccids[1])).siteId, depot.id);
        const activatedAtDepot = await submitChange(
          test,
          fx.accountId,
          [{ iccid: fx.iccids[1] }],
          'status_update',
          {
            targetStatus: 'active',
          },
        );
        assert.equal((await waitForFinish(test, activatedAtDepot, 30_000)).status, 'completed');
        assert.equal((await lineOf(fx.accountId, fx.iccids[1])).siteId, depot.id, 'its own site is kept');

        const placed = await fx.devices<SimLine>();
        const placeOf = (iccid: string) => placed.find((line) => line.iccid === iccid)?.primaryPlaceOfUse;
        assert.deepEqual(placeOf(fx.iccids[0])?.customerName, { firstName: 'Ford', lastName: 'Prefect' });
        assert.equal(placeOf(fx.iccids[0])?.address.zip, '98801');
        assert.equal(placeOf(fx.iccids[1])?.address.addressLine1, '155 Country Lane');
        assert.equal(placeOf(fx.iccids[1])?.customerName.lastName, 'Dent');

        // An unknown site is a row error at intake; a site lines are at cannot be deleted.
        const unknown = await postChange(
          test,
          fx.accountId,
          [{ iccid: fx.iccids[2], siteId: 'Atlantis' }],
          'site_assignment',
        );
        assert.equal(unknown.status, 422);
        assert.deepEqual(
          unknown.body.error?.details.map((detail) => [detail.row, detail.field, detail.code]),
          [[1, 'siteId', 'UNKNOWN_SITE']],
        );
        const inUse = await test.api<{ error: { code: string } }>('DELETE', `/api/v1/sites/${depot.id}`);
        assert.equal(inUse.status, 409);
        assert.equal(inUse.body.error.code, 'SITE_IN_USE');
      });
    });

    describe('archival', () => {
      let revio: ReturnType<typeof simAdmin>;
      before(async () => {
        const revioUrl = await test.serveSimulator(
          createRevioSimulator({ faults: { rateLimitPerSecond: null, maxConcurrent: null } }),
        );
        revio = simAdmin(revioUrl);
        const connected = await test.api('PUT', '/api/v1/billing-connection', {
          body: revioConnection(revioUrl, { settings: { providerIds: { thingspace: 3 } } }),
        });
        assert.equal(connected.status, 200, connected.text);
      });

      it('imports last usage from ThingSpace, asks Rev.io at run time, keeps the two overrides apart, and unarchives', async () => {
        const fx = await lines(4, 'deactive');
        const [used, idle, billed, other] = fx.iccids;
        await fx.seed([
          { iccid: used, lastConnectionDate: new Date(Date.now() - 2 * DAY).toISOString() },
          { iccid: idle, lastConnectionDate: new Date(Date.now() - 60 * DAY).toISOString() },
        ]);
        const started = await test.api('POST', `/api/v1/carrier-accounts/${fx.accountId}/inventory-sync`);
        assert.equal(started.status, 202, started.text);
        for (let tries = 0; tries < 400 && !(await lineOf(fx.accountId, used)).lastUsageAt; tries++)
          await new Promise((resolve) => setTimeout(resolve, 50));
        assert.ok((await lineOf(fx.accountId, used)).lastUsageAt, 'the sync imported the last connection');
        // Billed in Rev.io only: the inventory does not know, Rev.io is asked when the row runs.
        await revio.seed([{ customerId: 1001, providerId: 3, number: billed, number2: billed }]);

        const refused = await postChange(test, fx.accountId, byIccid([used, idle]), 'archival');
        assert.equal(refused.status, 422);
        assert.deepEqual(
          refused.body.error?.details.map((detail) => [detail.row, detail.code]),
          [[1, 'RECENT_USAGE']],
        );
        // overrideBilling does not skip the usage rule.
        const stillRefused = await postChange(test, fx.accountId, [{ iccid: used }], 'archival', {
          overrideBilling: true,
        });
        assert.equal(stillRefused.body.error?.details[0].code, 'RECENT_USAGE');

        const run = await submitChange(test, fx.accountId, byIccid([idle, billed]), 'archival');
        assert.equal((await waitForFinish(test, run)).status, 'completed_with_errors');
        const rows = await changesOf<Change>(test, run);
        assert.deepEqual(
          rows.map((row) => [row.row, row.status, row.error?.code ?? null]),
          [
            [1, 'succeeded', null],
            [2, 'failed', 'ACTIVE_BILLING_SERVICE'],
          ],
        );
        const service = (await revio.devices<RevioService>()).find(
          (candidate) => candidate.number2 === billed,
        );
        assert.equal(service?.status, 'ACTIVE', 'billing untouched');
        assert.equal((await lineOf(fx.accountId, billed)).billingServiceId, String(service?.id), 'now known');
        const log = await test.api<{ items: Array<{ system: string; action: string; changeId: string }> }>(
          'GET',
          `/api/v1/bulk-changes/${run}/log`,
        );
        assert.equal(
          log.body.items.filter((entry) => entry.system === 'revio' && entry.action === 'list_services')
            .length,
          2,
          'Rev.io was asked about each line as it ran',
        );

        const overridden = await submitChange(
          test,
          fx.accountId,
          [{ iccid: used }, { iccid: billed, overrideBilling: true }],
          'archival',
          {
            overrideUsage: true,
          },
        );
        assert.equal((await waitForFinish(test, overridden)).status, 'completed');
        // The deprecated `override` still skips both checks.
        const legacy = await submitChange(test, fx.accountId, [{ iccid: other }], 'archival', {
          override: true,
        });
        assert.equal((await waitForFinish(test, legacy)).status, 'completed');
        assert.ok((await inventory(fx.accountId)).every((line) => line.archived));

        // An archived line takes no other change, and only an archived line can be unarchived.
        const blocked = await postChange(test, fx.accountId, [{ iccid: idle }], 'status_update', {
          targetStatus: 'active',
        });
        assert.equal(blocked.body.error?.details[0].code, 'DEVICE_ARCHIVED');
        const restored = await submitChange(test, fx.accountId, byIccid([idle, used]), 'unarchive');
        assert.equal((await waitForFinish(test, restored)).status, 'completed');
        assert.deepEqual(
          (await inventory(fx.accountId))
            .map((line) => [line.iccid, line.archived])
            .sort(([a], [b]) => String(a).localeCompare(String(b))),
          [
            [used, false],
            [idle, false],
            [billed, true],
            [other, true],
          ],
        );
        const notArchived = await postChange(test, fx.accountId, [{ iccid: idle }], 'unarchive');
        assert.equal(notArchived.body.error?.details[0].code, 'DEVICE_NOT_ARCHIVED');
      });
    });
  });
}
