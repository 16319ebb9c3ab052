import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { type DemoFile, demoServer } from '../support/demo-server.ts';
import { type Api, listAll, repoRoot, simAdmin, waitForBulkChange } from '../support/processes.ts';

interface Device {
  iccid: string;
  eid: string | null;
  msisdn: string | null;
  status: string;
  carrierStatus: string | null;
  carrierRatePlan: string | null;
  customerRatePlanId: string | null;
  customerPoolId: string | null;
  billingCustomerId: string | null;
  billingServiceId: string | null;
  ipAddress: string | null;
  username: string | null;
  archived: boolean;
  siteId: string | null;
}
interface Row {
  row: number;
  iccid: string | null;
  eid: string | null;
  msisdn: string | null;
  status: string;
  error: { code: string } | null;
  result: { msisdn?: string; ipAddress?: string } | null;
}
type RevService = {
  id: number;
  customerId: number;
  number2: string | null;
  status: string;
  products: Array<{ productId: number }>;
};
type PondLine = { iccid: string; packages: Array<{ packageTypeId: string; status: string }> };

/** The Jasper-family examples run at 5 requests a second for minutes; test/e2e/demo.test.ts runs POD19's. */
const slow = new Set([
  'examples/jasper-activate.csv',
  'examples/jasper-deactivate.csv',
  'examples/jasper-rate-plan-change.csv',
  'examples/pod19-test-ready.csv',
]);

/**
 * Issue 5's "done when": the demo's example CSVs for every change type complete, and afterwards the
 * inventory, the carrier simulators and billing agree.
 */
describe('the demo examples, all at once', () => {
  const serveDemo = demoServer('bulkchange-examples-');
  let demo: DemoFile;
  let api: Api;

  const devicesOf = async (file: string) => {
    const example = demo.examples.find((candidate) => candidate.file === file)!;
    return listAll<Device>(api, `/api/v1/devices?carrierAccountId=${example.carrierAccountId}`);
  };
  const firstColumn = (file: string) =>
    new Set(
      readFileSync(path.join(repoRoot, file), 'utf8')
        .trim()
        .split('\n')
        .slice(1)
        .map((line) => line.split(',')[0]),
    );

  it('completes every example; inventory, simulators and billing agree', async () => {
    ({ demo, api } = await serveDemo.start());

    const submitted = new Map<string, string>();
    for (const example of demo.examples.filter((candidate) => !slow.has(candidate.file))) {
      const created = await api<{ id: string }>(
        'POST',
        `/api/v1/bulk-changes?carrierAccountId=${example.carrierAccountId}&changeType=${example.changeType}`,
        { body: readFileSync(path.join(repoRoot, example.file), 'utf8'), contentType: 'text/csv' },
      );
      assert.equal(created.status, 201, `${example.file}: ${created.text}`);
      submitted.set(example.file, created.body.id);
    }
    const finished = new Map<string, { status: string; id: string }>();
    for (const [file, id] of submitted) finished.set(file, await waitForBulkChange(api, id, 240_000));
    for (const [file, result] of finished) {
      const expected = file === 'examples/telegence-activate.csv' ? 'completed_with_errors' : 'completed';
      assert.equal(result.status, expected, file);
    }

    // Telegence: only rejected SIMs and eSIM-only devices failed; the rest are lines, as AT&T has them.
    const activationId = submitted.get('examples/telegence-activate.csv')!;
    const activation = await listAll<Row>(api, `/api/v1/bulk-changes/${activationId}/changes`);
    const failures = new Set(
      activation.filter((row) => row.status === 'failed').map((row) => row.error?.code),
    );
    assert.deepEqual([...failures].sort(), ['ACTIVATION_REJECTED', 'ESIM_REQUIRED']);
    const telegence = new Map(
      (await simAdmin(demo.simulators.telegence).devices()).map((line) => [
        line.iccid,
        line as typeof line & { ipAddress: string | null },
      ]),
    );
    const telegenceDevices = new Map(
      (await devicesOf('examples/telegence-activate.csv')).map((device) => [device.iccid, device]),
    );
    const activated = activation.filter((row) => row.status === 'succeeded');
    for (const row of activated) {
      const device = telegenceDevices.get(row.iccid!)!;
      assert.equal(telegence.get(row.iccid!)?.msisdn, device.msisdn, row.iccid!);
      assert.equal(telegence.get(row.iccid!)?.ipAddress ?? null, device.ipAddress, row.iccid!);
      assert.equal(device.status, 'active');
    }

    // The linked assignment billed every activated line to customer 1001, once; no failed line.
    const parent = await api<{ linkedId: string }>('GET', `/api/v1/bulk-changes/${activationId}`);
    const linked = await waitForBulkChange(api, parent.body.linkedId, 240_000);
    assert.equal(linked.status, 'completed_with_errors');
    const assigned = new Map(
      (await devicesOf('examples/telegence-activate.csv')).map((device) => [device.iccid, device]),
    );
    const services = (await simAdmin(demo.simulators.revio).devices()) as unknown as RevService[];
    const servicesByIccid = new Map<string, RevService[]>();
    for (const service of services) {
      if (service.number2)
        servicesByIccid.set(service.number2, [...(servicesByIccid.get(service.number2) ?? []), service]);
    }
    for (const row of activated) {
      const lineServices = servicesByIccid.get(row.iccid!) ?? [];
      assert.equal(lineServices.length, 1, `${row.iccid}: one billing service`);
      assert.equal(lineServices[0].customerId, 1001);
      assert.equal(String(lineServices[0].id), assigned.get(row.iccid!)?.billingServiceId);
      assert.equal(assigned.get(row.iccid!)?.billingCustomerId, '1001');
    }
    for (const row of activation.filter((candidate) => candidate.status === 'failed')) {
      assert.equal(servicesByIccid.has(row.iccid!), false, `${row.iccid}: not billed`);
    }

    // Billing examples: one service per line for the right customer, products attached, inventory agrees.
    for (const [file, customer, products] of [
      ['examples/billing-customer-assignment.csv', 1002, [501]],
      ['examples/billing-service-creation.csv', 1003, [501, 503]],
    ] as const) {
      const iccids = firstColumn(file);
      const devices = (await devicesOf(file)).filter((device) => iccids.has(device.iccid));
      assert.equal(devices.length, iccids.size);
      for (const device of devices) {
        const lineServices = servicesByIccid.get(device.iccid) ?? [];
        assert.equal(lineServices.length, 1, `${file} ${device.iccid}`);
        assert.equal(lineServices[0].customerId, customer);
        assert.deepEqual(lineServices[0].products.map((product) => product.productId).sort(), [...products]);
        assert.equal(device.billingServiceId, String(lineServices[0].id));
        assert.equal(device.billingCustomerId, String(customer));
      }
    }
    const planned = firstColumn('examples/customer-rate-plan-change.csv');
    for (const device of (await devicesOf('examples/customer-rate-plan-change.csv')).filter((d) =>
      planned.has(d.iccid),
    )) {
      assert.equal(device.customerRatePlanId, 'CRP-IOT-5');
      assert.equal(device.customerPoolId, 'POOL-FLEET');
    }
    const archived = firstColumn('examples/archival.csv');
    const archivedDevices = (await devicesOf('examples/archival.csv')).filter((d) => archived.has(d.iccid));
    assert.equal(archivedDevices.length, archived.size);
    assert.ok(archivedDevices.every((device) => device.archived));
    const sites = await api<{ items: Array<{ id: string; name: string }> }>('GET', '/api/v1/sites');
    const office = sites.body.items.find((site) => site.name === 'Seattle office');
    const placed = firstColumn('examples/site-assignment.csv');
    const placedDevices = (await devicesOf('examples/site-assignment.csv')).filter((d) =>
      placed.has(d.iccid),
    );
    assert.equal(placedDevices.length, placed.size);
    assert.ok(office && placedDevices.every((device) => device.siteId === office.id));

    // POND: exactly one active package per line, the new one, and the inventory says so.
    const pondLines = new Map(
      ((await simAdmin(demo.simulators.pond).devices()) as unknown as PondLine[]).map((line) => [
        line.iccid,
        line,
      ]),
    );
    const moved = firstColumn('examples/pond-rate-plan-change.csv');
    for (const device of (await devicesOf('examples/pond-rate-plan-change.csv')).filter((d) =>
      moved.has(d.iccid),
    )) {
      const active = pondLines.get(device.iccid)!.packages.filter((pkg) => pkg.status === 'ACTIVE');
      assert.deepEqual(
        active.map((pkg) => pkg.packageTypeId),
        ['PT-5GB'],
        device.iccid,
      );
      assert.equal(device.carrierRatePlan, 'PT-5GB');
    }
    const suspended = firstColumn('examples/pond-suspend.csv');
    for (const device of (await devicesOf('examples/pond-suspend.csv')).filter((d) =>
      suspended.has(d.iccid),
    )) {
      assert.equal(device.status, 'suspended');
      assert.equal((pondLines.get(device.iccid) as unknown as { state: string }).state, 'DISABLED');
    }

    // Teal: enabled eSIMs are online at Teal and active in the inventory; plans moved.
    const teal = new Map(
      (
        (await simAdmin(demo.simulators.teal).devices()) as unknown as Array<{
          eid: string;
          state: string;
          planUuid: string;
        }>
      ).map((esim) => [esim.eid, esim]),
    );
    const enabled = firstColumn('examples/teal-enable.csv');
    const tealDevices = await devicesOf('examples/teal-enable.csv');
    for (const device of tealDevices.filter((d) => d.eid && enabled.has(d.eid))) {
      assert.equal(teal.get(device.eid!)?.state, 'online');
      assert.equal(device.status, 'active');
    }
    const replanned = firstColumn('examples/teal-plan-change.csv');
    for (const device of tealDevices.filter((d) => d.eid && replanned.has(d.eid))) {
      assert.equal(teal.get(device.eid!)?.planUuid, device.carrierRatePlan);
    }

    // Telegence line changes, as AT&T has them.
    const byMsisdn = new Map(
      [...telegence.values()].map((line) => [
        line.msisdn,
        line as typeof line & { state: string; contactName: string | null },
      ]),
    );
    for (const msisdn of firstColumn('examples/telegence-suspend.csv'))
      assert.equal(byMsisdn.get(msisdn)?.state, 'S');
    for (const msisdn of firstColumn('examples/telegence-rate-plan-change.csv'))
      assert.equal(byMsisdn.get(msisdn)?.ratePlan, 'APX5GM30');
    for (const msisdn of firstColumn('examples/telegence-username.csv'))
      assert.match(byMsisdn.get(msisdn)?.contactName ?? '', /^Truck \d+$/);
  });
});
