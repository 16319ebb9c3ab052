import { tealPlans } from '../carriers/teal/simulator/simulator.ts';
import type { ChangeType } from '../core/change-types.ts';
import { luhnCheckDigit } from '../core/identifiers.ts';
import { demoAccounts } from './demo-accounts.ts';
import { DEMO_TELEGENCE_BAN, type DemoLine } from './demo-data.ts';

interface DemoExample {
  file: string;
  /** The demo account it runs on (its `settings.demoSimulator`). */
  account: string;
  changeType: ChangeType;
  description: string;
  header: string[];
  /** Picks the example's lines; examples use disjoint lines so they can run at the same time. */
  lines: (lines: DemoLine[]) => DemoLine[];
  cells: (line: DemoLine) => string[];
}

const inState = (states: Array<string | null>, from: number, count: number) => (lines: DemoLine[]) =>
  lines
    .slice(from)
    .filter((line) => states.includes(line.state))
    .slice(0, count);

/** A demo line's index, from its ICCID (prefix, 11-digit index, check digit). */
const indexOf = (line: DemoLine) => Number(line.iccid.slice(-12, -1));

const newImei = (line: DemoLine) => {
  const payload = `35391108${String(indexOf(line)).padStart(6, '0')}`;
  return payload + luhnCheckDigit(payload);
};

/** The example CSVs shipped in `examples/`, each runnable against the demo data (API §6). */
export const demoExamples: DemoExample[] = [
  {
    file: 'examples/jasper-activate.csv',
    account: 'jasper',
    changeType: 'status_update',
    description: 'Activate 500 lines that are activation-ready, in inventory, test-ready or deactivated',
    header: ['ICCID', 'Target Status'],
    lines: inState(['ACTIVATION_READY', 'INVENTORY', 'TEST_READY', 'DEACTIVATED'], 0, 500),
    cells: (line) => [line.iccid, 'active'],
  },
  {
    file: 'examples/jasper-deactivate.csv',
    account: 'jasper',
    changeType: 'status_update',
    description: 'Deactivate 500 active lines',
    header: ['iccid', 'target_status'],
    lines: inState(['ACTIVATED'], 0, 500),
    cells: (line) => [line.iccid, 'deactivated'],
  },
  {
    file: 'examples/jasper-rate-plan-change.csv',
    account: 'jasper',
    changeType: 'carrier_rate_plan_change',
    description: 'Move 200 lines to IoT 100MB on the CP_Data_Only communication plan',
    header: ['ICCID', 'Rate Plan', 'Communication Plan'],
    lines: inState(['ACTIVATED'], 1200, 200),
    cells: (line) => [line.iccid, 'IoT 100MB', 'CP_Data_Only'],
  },
  {
    file: 'examples/pod19-test-ready.csv',
    account: 'pod19',
    changeType: 'status_update',
    description: 'Move 50 POD19 lines from inventory to test-ready',
    header: ['sim', 'status'],
    lines: inState(['INVENTORY'], 0, 50),
    cells: (line) => [line.iccid, 'test_ready'],
  },
  {
    file: 'examples/thingspace-activate.csv',
    account: 'thingspace',
    changeType: 'status_update',
    description:
      'Activate 2,000 ThingSpace lines (added to the account first where needed), with the account’s default plan and ZIP',
    header: ['ICCID', 'IMEI', 'Target Status'],
    lines: inState(['pre-active', null], 0, 2000),
    cells: (line) => [line.iccid, line.imei, 'active'],
  },
  {
    file: 'examples/thingspace-suspend.csv',
    account: 'thingspace',
    changeType: 'status_update',
    description: 'Suspend 200 active ThingSpace lines',
    header: ['iccid', 'target_status'],
    lines: inState(['active'], 0, 200),
    cells: (line) => [line.iccid, 'suspended'],
  },
  {
    file: 'examples/thingspace-plan-change.csv',
    account: 'thingspace',
    changeType: 'carrier_rate_plan_change',
    description: 'Move 100 active ThingSpace lines to the M2M 4G 5GB plan',
    header: ['iccid', 'carrier_rate_plan'],
    lines: inState(['active'], 2000, 100),
    cells: (line) => [line.iccid, 'M2M4G5GB'],
  },
  {
    file: 'examples/telegence-activate.csv',
    account: 'telegence',
    changeType: 'activate_new_service',
    description:
      'New AT&T service for 450 SIMs in stock (3 batches): half with a static IP, some SOCs added and removed, then billed to Acme Logistics. Some SIMs are reported lost and some devices are eSIM-only: those rows fail alone.',
    header: [
      'ICCID',
      'IMEI',
      'BAN',
      'Rate Plan',
      'ZIP',
      'First Name',
      'Last Name',
      'Static IP',
      'Add SOC',
      'Remove SOC',
      'Billing Customer Id',
      'Customer Rate Plan Id',
      'Create Billing Service',
      'Service Type Id',
      'Product Ids',
    ],
    lines: inState(['NEW'], 0, 450),
    cells: (line) => {
      const index = indexOf(line);
      const features = index % 5 === 0;
      return [
        line.iccid,
        line.imei,
        DEMO_TELEGENCE_BAN,
        'APX1G5M30',
        '75001',
        'Fleet',
        `Unit ${index}`,
        index % 2 === 0 ? 'yes' : 'no',
        features ? 'INTLROAM|HOTSPOT' : '',
        features ? 'HOTSPOT' : '',
        '1001',
        'CRP-MOB-UNL',
        'yes',
        '11',
        '501',
      ];
    },
  },
  {
    file: 'examples/telegence-suspend.csv',
    account: 'telegence',
    changeType: 'status_update',
    description: 'Suspend 150 active AT&T lines at the customer’s request',
    header: ['MSISDN', 'Target Status', 'Reason Code'],
    lines: inState(['A'], 0, 150),
    cells: (line) => [line.msisdn!, 'suspended', 'CUST_REQ'],
  },
  {
    file: 'examples/telegence-rate-plan-change.csv',
    account: 'telegence',
    changeType: 'carrier_rate_plan_change',
    description: 'Move 150 active AT&T lines to the 5 GB plan (APX5GM30)',
    header: ['msisdn', 'carrier_rate_plan'],
    lines: inState(['A'], 400, 150),
    cells: (line) => [line.msisdn!, 'APX5GM30'],
  },
  {
    file: 'examples/telegence-username.csv',
    account: 'telegence',
    changeType: 'username_cost_center_change',
    description: 'Name 50 AT&T lines after their vehicle and set their cost centre',
    header: ['msisdn', 'username', 'cost_center_1'],
    lines: inState(['A'], 700, 50),
    cells: (line) => [line.msisdn!, `Truck ${indexOf(line)}`, 'FLEET-EAST'],
  },
  {
    file: 'examples/telegence-equipment-change.csv',
    account: 'telegence',
    changeType: 'identifier_change',
    description: 'Move 20 AT&T lines to new devices (IMEI swap)',
    header: ['msisdn', 'new_imei'],
    lines: inState(['A'], 850, 20),
    cells: (line) => [line.msisdn!, newImei(line)],
  },
  {
    file: 'examples/billing-customer-assignment.csv',
    account: 'jasper',
    changeType: 'customer_assignment',
    description:
      'Assign 80 active Jasper lines to Northwind Fleet with a Rev.io service (IoT line fee) and the IoT 1 GB customer plan',
    header: [
      'iccid',
      'billing_customer_id',
      'create_billing_service',
      'service_type_id',
      'product_ids',
      'customer_rate_plan_id',
    ],
    lines: inState(['ACTIVATED'], 1640, 80),
    cells: (line) => [line.iccid, '1002', 'yes', '10', '501', 'CRP-IOT-1'],
  },
  {
    file: 'examples/customer-rate-plan-change.csv',
    account: 'jasper',
    changeType: 'customer_rate_plan_change',
    description: 'Move 60 active Jasper lines to the IoT 5 GB customer plan in the fleet pool',
    header: ['iccid', 'customer_rate_plan_id', 'customer_pool_id'],
    lines: inState(['ACTIVATED'], 1840, 60),
    cells: (line) => [line.iccid, 'CRP-IOT-5', 'POOL-FLEET'],
  },
  {
    file: 'examples/billing-service-creation.csv',
    account: 'tmobile_jasper',
    changeType: 'billing_service_creation',
    description: 'Create Rev.io services for 100 active T-Mobile lines of Contoso Meters',
    header: ['iccid', 'billing_customer_id', 'service_type_id', 'product_ids', 'rates'],
    lines: inState(['ACTIVATED'], 0, 100),
    cells: (line) => [line.iccid, '1003', '10', '501|503', '2.5|8'],
  },
  {
    file: 'examples/archival.csv',
    account: 'rogers',
    changeType: 'archival',
    description: 'Archive 40 deactivated Rogers lines (no billing service, no recent usage)',
    header: ['iccid'],
    lines: inState(['DEACTIVATED'], 0, 40),
    cells: (line) => [line.iccid],
  },
  {
    file: 'examples/site-assignment.csv',
    account: 'rogers',
    changeType: 'site_assignment',
    description: 'Put 30 active Rogers lines at the Seattle office site (the Site column names it)',
    header: ['ICCID', 'Site'],
    lines: inState(['ACTIVATED'], 0, 30),
    cells: (line) => [line.iccid, 'Seattle office'],
  },
  {
    file: 'examples/pond-rate-plan-change.csv',
    account: 'pond',
    changeType: 'carrier_rate_plan_change',
    description: 'Move 100 POND lines to the Global 5 GB package (add, activate, then terminate the old one)',
    header: ['iccid', 'carrier_rate_plan'],
    lines: inState(['ENABLED'], 0, 100),
    cells: (line) => [line.iccid, 'PT-5GB'],
  },
  {
    file: 'examples/pond-suspend.csv',
    account: 'pond',
    changeType: 'status_update',
    description: 'Suspend 50 POND lines (disable their services)',
    header: ['iccid', 'target_status'],
    lines: inState(['ENABLED'], 300, 50),
    cells: (line) => [line.iccid, 'suspended'],
  },
  {
    file: 'examples/teal-enable.csv',
    account: 'teal',
    changeType: 'status_update',
    description: 'Enable 60 Teal eSIMs that are waiting or stopped',
    header: ['eid', 'target_status'],
    lines: inState(['waiting', 'stopped'], 0, 60),
    cells: (line) => [line.eid!, 'active'],
  },
  {
    file: 'examples/teal-plan-change.csv',
    account: 'teal',
    changeType: 'carrier_rate_plan_change',
    description: 'Move 60 online Teal eSIMs to the Global 5 GB plan',
    header: ['eid', 'carrier_rate_plan'],
    lines: inState(['online'], 150, 60),
    cells: (line) => [line.eid!, tealPlans[2].uuid],
  },
];

/** The CSV text of an example, from the demo data it runs on. */
export function exampleCsv(example: DemoExample): string {
  const account = demoAccounts.find((candidate) => candidate.key === example.account);
  if (!account) throw new Error(`No demo account ${example.account}`);
  const lines = example.lines(account.lines());
  return `${[example.header, ...lines.map(example.cells)].map((cells) => cells.join(',')).join('\n')}\n`;
}
