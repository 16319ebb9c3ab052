import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import ExcelJS from 'exceljs';
import { carrierAccountsRepository } from '../src/accounts/carrier-accounts-repository.ts';
import { createRevioSimulator } from '../src/billing/revio/simulator/simulator.ts';
import { XLSX_CONTENT_TYPE } from '../src/bulk-changes/upload-input.ts';
import { createTelegenceSimulator } from '../src/carriers/telegence/simulator/simulator.ts';
import { newId } from '../src/shared/ids.ts';
import { fillWorkbook, workbookImei } from './support/activation-workbook.ts';
import { revioConnection } from './support/billing-connection.ts';
import { changesOf } from './support/bulk-changes.ts';
import { carrierAccountFixture } from './support/carrier-accounts.ts';
import { testDialects } from './support/databases.ts';
import { insertLines } from './support/inventory.ts';
import { simAdmin } from './support/processes.ts';
import { jasperFixture, serviceForSuite, testIccid, waitForFinish } from './support/service.ts';

type Detail = { sheet?: string; row?: number; field?: string; code: string; message: string };
type ErrorBody = { error: { code: string; message: string; details: Detail[] } };
type Change = { row: number; iccid: string; status: string; error: { code: string } | null };
type RevioService = { customerId: number; number2: string; products: Array<{ productId: number }> };
type SimLine = { iccid: string; state: string; msisdn: string };
type Device = {
  iccid: string;
  msisdn: string | null;
  status: string;
  billingCustomerId: string | null;
  customerRatePlanId: string | null;
  carrierRatePlan: string | null;
  optimizationGroup: string | null;
};

const BAN = '287301234567';

for (const dialect of testDialects) {
  describe(`The activation workbook on ${dialect}`, () => {
    const test = serviceForSuite(dialect);
    let revio: ReturnType<typeof simAdmin>;
    let prefix = 8901810;

    before(async () => {
      const revioUrl = await test.serveSimulator(
        createRevioSimulator({ faults: { rateLimitPerSecond: null, maxConcurrent: null } }),
      );
      revio = simAdmin(revioUrl);
      const connected = await test.api('PUT', '/api/v1/billing-connection', {
        body: revioConnection(revioUrl, { settings: { providerIds: { telegence: 3 } } }),
      });
      assert.equal(connected.status, 200, connected.text);
      const synced = await test.api('POST', '/api/v1/billing-customers/sync');
      assert.equal(synced.status, 200, synced.text);
      const plans = await test.api('POST', '/api/v1/customer-rate-plans', {
        body: { items: [{ id: 'CRP-1', name: 'Fleet 1 GB' }] },
      });
      assert.equal(plans.status, 200, plans.text);
    });

    async function fixture() {
      const simulatorUrl = await test.serveSimulator(
        createTelegenceSimulator({
          faults: { rateLimitPerSecond: null, maxConcurrent: null, activationStepMs: 60, ipProvisionMs: 60 },
        }),
      );
      const accountId = await carrierAccountFixture(test, {
        carrier: 'telegence',
        baseUrl: simulatorUrl,
        credentials: { appId: 'demo-app', appSecret: 'demo-app-secret' },
        limits: { requestsPerSecond: null, maxConcurrent: 8, checkIntervalMs: 150, maxWaitMs: 30_000 },
      });
      await carrierAccountsRepository(test.service.database.db).insertRatePlans(accountId, [
        { id: newId(), code: 'APX1G5M30', name: 'Mobile 1 GB', dataMb: 1024, communicationPlan: null },
        { id: newId(), code: 'APX5GM30', name: 'Mobile 5 GB', dataMb: 5120, communicationPlan: null },
      ]);
      prefix += 1;
      const sim = simAdmin(simulatorUrl);
      return {
        accountId,
        sim,
        iccid: (index: number) => testIccid(index, String(prefix)),
      };
    }
    type Fixture = Awaited<ReturnType<typeof fixture>>;

    const template = async (accountId: string) => {
      const response = await fetch(
        `${test.url}/api/v1/carrier-accounts/${accountId}/activation-workbook.xlsx`,
        {
          headers: { authorization: `Bearer ${test.adminKey}` },
        },
      );
      return { response, file: Buffer.from(await response.arrayBuffer()) };
    };
    const activation = (fx: Fixture, index: number, extra: Record<string, string> = {}) => ({
      iccid: fx.iccid(index),
      imei: workbookImei(index),
      billing_account_number: BAN,
      rate_plan: 'APX1G5M30',
      first_name: 'Ada',
      last_name: `Line ${index}`,
      zip_code: '75001',
      ...extra,
    });
    const post = (file: Buffer, accountId: string, query = '') =>
      test.api<ErrorBody & { id: string; counts: { total: number } } & Record<string, unknown>>(
        'POST',
        `/api/v1/bulk-changes?carrierAccountId=${accountId}&changeType=activate_new_service${query}`,
        { body: file, contentType: XLSX_CONTENT_TYPE },
      );
    const devices = async (accountId: string) =>
      new Map(
        (
          await test.api<{ items: Device[] }>(
            'GET',
            `/api/v1/devices?carrierAccountId=${accountId}&limit=100`,
          )
        ).body.items.map((device) => [device.iccid, device]),
      );

    it('hands out a template with both sheets, text identifier cells, drop-downs from the catalogs and instructions', async () => {
      const fx = await fixture();
      const { response, file } = await template(fx.accountId);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('content-type'), XLSX_CONTENT_TYPE);
      assert.match(
        response.headers.get('content-disposition') ?? '',
        /attachment; filename="activation-workbook-/,
      );
      const workbook = new ExcelJS.Workbook();
      await workbook.xlsx.load(new Uint8Array(file).buffer);
      assert.deepEqual(
        workbook.worksheets.map((sheet) => [sheet.name, sheet.state]),
        [
          ['Activations', 'visible'],
          ['Customer assignment', 'visible'],
          ['Instructions', 'visible'],
          ['Lists', 'hidden'],
        ],
      );
      const headerOf = (name: string) =>
        (workbook.getWorksheet(name)!.getRow(1).values as unknown[]).slice(1).map(String);
      const activations = headerOf('Activations');
      assert.deepEqual(activations.slice(0, 6), [
        'iccid',
        'imei',
        'billing_account_number',
        'rate_plan',
        'first_name',
        'last_name',
      ]);
      assert.ok(activations.includes('qualification_token'));
      assert.deepEqual(headerOf('Customer assignment').slice(0, 2), ['iccid', 'billing_customer_id']);
      assert.ok(headerOf('Customer assignment').includes('use_carrier_activation'));
      const sheet = workbook.getWorksheet('Activations')!;
      assert.equal(sheet.getCell('A2').numFmt, '@', 'ICCIDs are text cells');
      const planRule = sheet.getCell(2, activations.indexOf('rate_plan') + 1).dataValidation;
      assert.equal(planRule.type, 'list');
      const [listRange] = planRule.formulae as string[];
      const lists = workbook.getWorksheet('Lists')!;
      const column = listRange.match(/^Lists!\$([A-Z]+)\$2/)![1];
      assert.deepEqual(
        [2, 3].map((row) => lists.getCell(`${column}${row}`).value),
        ['APX1G5M30', 'APX5GM30'],
        "the account's rate plans",
      );
      const assignment = workbook.getWorksheet('Customer assignment')!;
      const customerRule = assignment.getCell('B2').dataValidation;
      const customerColumn = (customerRule.formulae as string[])[0].match(/^Lists!\$([A-Z]+)\$2/)![1];
      assert.ok(lists.getColumn(customerColumn).values.includes('1001'), "the tenant's billing customers");
      const instructions = workbook.getWorksheet('Instructions')!;
      assert.ok(instructions.rowCount > 30);

      // Only accounts that activate new service have one.
      const jasper = await jasperFixture(test, { count: 1, prefix: '8901891' });
      const refused = await test.api<ErrorBody>(
        'GET',
        `/api/v1/carrier-accounts/${jasper.accountId}/activation-workbook.xlsx`,
      );
      assert.equal(refused.status, 422);
      assert.equal(refused.body.error.details[0].code, 'UNSUPPORTED_CHANGE_TYPE');
    });

    it('activates the first sheet in one bulk change and runs the second as its linked assignment, billed in Rev.io', async () => {
      const fx = await fixture();
      const today = new Date().toISOString().slice(0, 10);
      const filled = await fillWorkbook((await template(fx.accountId)).file, {
        Activations: [
          activation(fx, 0),
          activation(fx, 1),
          activation(fx, 2, {
            street_number: '12',
            street_name: 'Main',
            city: 'Dallas',
            state: 'TX',
            qualification_token: 'QUAL-7781',
          }),
        ],
        'Customer assignment': [
          {
            iccid: fx.iccid(0),
            billing_customer_id: '1001',
            create_billing_service: 'yes',
            service_type_id: '10',
            product_ids: '501|502',
            rates: '2.5|5',
            use_carrier_activation: 'yes',
            customer_rate_plan_id: 'CRP-1',
          },
          { iccid: fx.iccid(2), billing_customer_id: '1002', effective_date: today },
        ],
      });
      const created = await post(filled, fx.accountId);
      assert.equal(created.status, 201, created.text);
      assert.equal(created.body.changeType, 'activate_new_service');
      assert.equal(created.body.counts.total, 3);
      const parent = await waitForFinish(test, created.body.id);
      assert.equal(parent.status, 'completed');
      const linked = await waitForFinish(test, String(parent.linkedId));
      assert.equal(linked.changeType, 'customer_assignment');
      const assigned = await changesOf<Change>(test, String(parent.linkedId));
      assert.equal(linked.status, 'completed', JSON.stringify(assigned));
      assert.deepEqual(
        (await changesOf<Change>(test, String(parent.linkedId))).map((row) => [
          row.row,
          row.iccid,
          row.status,
        ]),
        [
          [1, fx.iccid(0), 'succeeded'],
          [3, fx.iccid(2), 'succeeded'],
        ],
      );

      // The carrier: every SIM active on a line of its own.
      const lines = new Map((await fx.sim.devices<SimLine>()).map((line) => [line.iccid, line]));
      for (const index of [0, 1, 2]) assert.equal(lines.get(fx.iccid(index))?.state, 'A');
      // The qualification travelled with its activation.
      const log = await test.api<{ items: Array<{ action: string; request: unknown }> }>(
        'GET',
        `/api/v1/bulk-changes/${created.body.id}/log?limit=100`,
      );
      const posted = log.body.items.filter((entry) => entry.action === 'activate');
      assert.ok(posted.length >= 1, log.text);
      const sent = JSON.stringify(posted.map((entry) => entry.request));
      assert.match(sent, /serviceQualification/);
      assert.match(sent, /QUAL-7781/);

      // Billing: a service with its products for the line that asked, none for the others.
      const services = (await revio.devices<RevioService>()).filter((service) =>
        [0, 1, 2].map(fx.iccid).includes(service.number2),
      );
      assert.deepEqual(
        services.map((service) => [service.number2, service.customerId]),
        [[fx.iccid(0), 1001]],
      );
      assert.deepEqual(services[0].products.map((product) => product.productId).sort(), [501, 502]);

      // The inventory: assigned as the second sheet said, the unassigned line left alone.
      const inventory = await devices(fx.accountId);
      assert.equal(inventory.get(fx.iccid(0))?.billingCustomerId, '1001');
      assert.equal(inventory.get(fx.iccid(0))?.customerRatePlanId, 'CRP-1');
      assert.equal(inventory.get(fx.iccid(2))?.billingCustomerId, '1002');
      assert.equal(inventory.get(fx.iccid(1))?.billingCustomerId, null);
      assert.equal(inventory.get(fx.iccid(1))?.status, 'active');
    });

    it('refuses a workbook whose sheets disagree, each problem at its sheet, row and column, even with acceptValidRows', async () => {
      const fx = await fixture();
      const filled = await fillWorkbook((await template(fx.accountId)).file, {
        Activations: [
          activation(fx, 0),
          activation(fx, 1, { imei: '12345' }),
          activation(fx, 2, { qualification_token: 'QUAL-1' }),
          activation(fx, 3),
        ],
        'Customer assignment': [
          { iccid: fx.iccid(9), billing_customer_id: '1001', prorate: 'yes' },
          { iccid: fx.iccid(0), billing_customer_id: '999999', prorate: 'yes' },
          { iccid: fx.iccid(3), billing_customer_id: '1001' },
          { iccid: fx.iccid(0), billing_customer_id: '1001', prorate: 'yes' },
        ],
      });
      for (const query of ['', '&acceptValidRows=true']) {
        const refused = await post(filled, fx.accountId, query);
        assert.equal(refused.status, 422, refused.text);
        const found = refused.body.error.details.map((detail) => [
          detail.sheet,
          detail.row,
          detail.field,
          detail.code,
        ]);
        assert.deepEqual(
          found.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
          [
            ['Activations', 2, 'imei', 'INVALID_IMEI'],
            ['Activations', 3, 'streetNumber', 'REQUIRED'],
            ['Customer assignment', 1, 'iccid', 'ASSIGNMENT_WITHOUT_ACTIVATION'],
            ['Customer assignment', 2, 'billingCustomerId', 'UNKNOWN_BILLING_CUSTOMER'],
            ['Customer assignment', 3, 'effectiveDate', 'REQUIRED'],
            ['Customer assignment', 4, 'iccid', 'DUPLICATE_ROW'],
          ],
        );
      }
      const listed = await test.api<{ items: unknown[] }>(
        'GET',
        `/api/v1/bulk-changes?carrierAccountId=${fx.accountId}`,
      );
      assert.deepEqual(listed.body.items, [], 'nothing was created');

      // A dry run shows the activation rows, and the assignment sheet's problems as the file's.
      const dryRun = await post(filled, fx.accountId, '&dryRun=true');
      assert.equal(dryRun.status, 200, dryRun.text);
      const report = dryRun.body as unknown as {
        summary: { total: number };
        fileIssues: Detail[];
        rows: Array<{ row: number; outcome: string; code?: string }>;
      };
      assert.equal(report.summary.total, 4);
      assert.deepEqual(
        report.rows.map((row) => [row.row, row.outcome, row.code ?? null]),
        [
          // Its assignment names an unknown customer, reported on the assignment sheet as well.
          [1, 'would_fail', 'UNKNOWN_BILLING_CUSTOMER'],
          [2, 'would_fail', 'INVALID_IMEI'],
          [3, 'would_fail', 'REQUIRED'],
          [4, 'would_succeed', null],
        ],
      );
      assert.deepEqual(report.fileIssues.map((issue) => [issue.sheet, issue.row, issue.code]).sort(), [
        ['Customer assignment', 1, 'ASSIGNMENT_WITHOUT_ACTIVATION'],
        ['Customer assignment', 2, 'UNKNOWN_BILLING_CUSTOMER'],
        ['Customer assignment', 3, 'REQUIRED'],
        ['Customer assignment', 4, 'DUPLICATE_ROW'],
      ]);
    });

    it("reads the original's column names and runs a workbook whose assignment sheet is empty as activations alone", async () => {
      const fx = await fixture();
      const workbook = new ExcelJS.Workbook();
      const first = workbook.addWorksheet('Sheet1');
      first.addRow([
        'SIM_ICCID',
        'IMEI',
        'BillingAccountNumber',
        'CarrierRatePlanCode',
        'SubscriberFirstName',
        'SubscriberLastName',
        'StreetNumber',
        'StreetDirection',
        'StreetName',
        'City',
        'State',
        'Zip',
        'QualificationToken',
      ]);
      first.addRow([
        fx.iccid(0),
        workbookImei(0),
        BAN,
        'APX1G5M30',
        'Ada',
        'L',
        '1',
        'N',
        'Elm',
        'Austin',
        'TX',
        '73301',
        'Q-9',
      ]);
      first.addRow([
        fx.iccid(1),
        workbookImei(1),
        BAN,
        'APX1G5M30',
        'Bob',
        'L',
        '',
        '',
        '',
        '',
        '',
        '73301',
        '',
      ]);
      const second = workbook.addWorksheet('Sheet2');
      second.addRow([
        'ICCID',
        'RevioCustomer',
        'IsCreateServiceProduct',
        'IsProrate',
        'IsUseCarrierActivation',
      ]);
      second.addRow([fx.iccid(1), '1001', 'no', 'no', 'yes']);
      const created = await post(Buffer.from(await workbook.xlsx.writeBuffer()), fx.accountId);
      assert.equal(created.status, 201, created.text);
      const parent = await waitForFinish(test, created.body.id);
      assert.equal(parent.status, 'completed');
      const linked = await waitForFinish(test, String(parent.linkedId));
      assert.deepEqual(
        (await changesOf<Change>(test, String(parent.linkedId))).map((row) => [row.row, row.status]),
        [[2, 'succeeded']],
      );
      assert.equal(linked.status, 'completed');
      assert.equal((await devices(fx.accountId)).get(fx.iccid(1))?.billingCustomerId, '1001');

      // The second sheet left with its header only: the lines are activated, and nothing is assigned.
      const alone = new ExcelJS.Workbook();
      alone.addWorksheet('Activations').addRows([
        ['iccid', 'imei', 'ban', 'rate_plan', 'first_name', 'last_name', 'zip'],
        [fx.iccid(5), workbookImei(5), BAN, 'APX1G5M30', 'Cy', 'L', '73301'],
      ]);
      alone.addWorksheet('Customer assignment').addRow(['iccid', 'billing_customer_id']);
      const activated = await post(Buffer.from(await alone.xlsx.writeBuffer()), fx.accountId);
      assert.equal(activated.status, 201, activated.text);
      const finished = await waitForFinish(test, activated.body.id);
      assert.equal(finished.status, 'completed');
      assert.equal(finished.linkedId, null);
    });

    it("keeps the optimisation group a Mobility carrier plan CSV gives a line, as the original's CSV did", async () => {
      const fx = await fixture();
      const msisdn = `21455${String(prefix).slice(-3)}01`;
      await fx.sim.seed([
        { iccid: fx.iccid(0), imei: workbookImei(0), msisdn, state: 'A', ratePlan: 'APX1G5M30', ban: BAN },
      ]);
      await insertLines(test, fx.accountId, [
        {
          iccid: fx.iccid(0),
          imei: workbookImei(0),
          msisdn,
          status: 'active',
          carrierStatus: 'A',
          carrierRatePlan: 'APX1G5M30',
        },
      ]);
      const csv = `PhoneNumber,RatePlanName,OptimizationGroup\n${msisdn},APX5GM30,Fleet East\n`;
      const created = await test.api<{ id: string }>(
        'POST',
        `/api/v1/bulk-changes?carrierAccountId=${fx.accountId}&changeType=carrier_rate_plan_change`,
        { body: csv, contentType: 'text/csv' },
      );
      assert.equal(created.status, 201, created.text);
      assert.equal((await waitForFinish(test, created.body.id)).status, 'completed');
      const line = (await devices(fx.accountId)).get(fx.iccid(0));
      assert.equal(line?.carrierRatePlan, 'APX5GM30');
      assert.equal(line?.optimizationGroup, 'Fleet East');
      const history = await test.api<{
        items: Array<{ field: string; before: string | null; after: string | null }>;
      }>('GET', `/api/v1/devices/${fx.iccid(0)}/history`);
      assert.deepEqual(
        history.body.items
          .filter((entry) => entry.field === 'optimizationGroup')
          .map((entry) => [entry.before, entry.after]),
        [[null, 'Fleet East']],
      );
      // AT&T is told the plan only: the group is ours.
      const log = await test.api<{ items: Array<{ action: string; request: unknown }> }>(
        'GET',
        `/api/v1/bulk-changes/${created.body.id}/log`,
      );
      const patched = log.body.items.filter((entry) => entry.action === 'update_line');
      assert.equal(patched.length, 1, log.text);
      assert.match(JSON.stringify(patched[0].request), /APX5GM30/);
      assert.doesNotMatch(JSON.stringify(patched[0].request), /Fleet East/);

      // The Jasper family has no optimisation group: the column is refused, not ignored.
      const jasper = await jasperFixture(test, { count: 1, prefix: '8901892' });
      const refused = await test.api<ErrorBody>(
        'POST',
        `/api/v1/bulk-changes?carrierAccountId=${jasper.accountId}&changeType=carrier_rate_plan_change`,
        {
          body: `iccid,carrier_rate_plan,optimization_group\n${jasper.iccids[0]},IoT 100MB,Fleet East\n`,
          contentType: 'text/csv',
        },
      );
      assert.equal(refused.status, 422);
      assert.deepEqual(
        refused.body.error.details.map((detail) => [detail.field, detail.code]),
        [['optimizationGroup', 'UNKNOWN_COLUMN']],
      );
    });
  });
}
