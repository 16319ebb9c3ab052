import { demoAccounts } from './demo-accounts.ts';
import type { DemoLine } from './demo-data.ts';

interface DemoExample {
  file: string;
  /** The demo account it runs on (its `settings.demoSimulator`). */
  account: string;
  changeType: 'status_update' | 'carrier_rate_plan_change';
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
];

/** The CSV text of an example, from the demo data it runs on. */
export function exampleCsv(example: DemoExample): string {
  const account = demoAccounts.find((candidate) => candidate.key === example.account);
  if (!account) throw new Error(`No demo account ${example.account}`);
  const lines = example.lines(account.lines());
  return `${[example.header, ...lines.map(example.cells)].map((cells) => cells.join(',')).join('\n')}\n`;
}
