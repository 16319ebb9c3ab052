import { jasperRatePlans } from '../carriers/jasper/simulator.ts';
import type { JasperStatus } from '../carriers/jasper/statuses.ts';
import { type DemoJasperLine, demoJasperAccounts, demoJasperLines } from './demo-data.ts';

type DemoAccountKey = (typeof demoJasperAccounts)[number]['key'];

interface DemoExample {
  file: string;
  /** The demo account it runs on (`settings.demoSimulator`). */
  account: `jasper:${DemoAccountKey}`;
  changeType: 'status_update' | 'carrier_rate_plan_change';
  description: string;
  header: string[];
  /** Picks the example's lines; examples use disjoint lines so they can run at the same time. */
  lines: (lines: DemoJasperLine[]) => DemoJasperLine[];
  cells: (line: DemoJasperLine) => string[];
}

const inState = (states: JasperStatus[], from: number, count: number) => (lines: DemoJasperLine[]) =>
  lines
    .slice(from)
    .filter((line) => states.includes(line.state))
    .slice(0, count);

/** The example CSVs shipped in `examples/`, each runnable against the demo data (API §6). */
export const demoExamples: DemoExample[] = [
  {
    file: 'examples/jasper-activate.csv',
    account: 'jasper:jasper',
    changeType: 'status_update',
    description: 'Activate 500 lines that are activation-ready, in inventory, test-ready or deactivated',
    header: ['ICCID', 'Target Status'],
    lines: inState(['ACTIVATION_READY', 'INVENTORY', 'TEST_READY', 'DEACTIVATED'], 0, 500),
    cells: (line) => [line.iccid, 'active'],
  },
  {
    file: 'examples/jasper-deactivate.csv',
    account: 'jasper:jasper',
    changeType: 'status_update',
    description: 'Deactivate 500 active lines',
    header: ['iccid', 'target_status'],
    lines: inState(['ACTIVATED'], 0, 500),
    cells: (line) => [line.iccid, 'deactivated'],
  },
  {
    file: 'examples/jasper-rate-plan-change.csv',
    account: 'jasper:jasper',
    changeType: 'carrier_rate_plan_change',
    description: 'Move 200 lines to IoT 100MB on the CP_Data_Only communication plan',
    header: ['ICCID', 'Rate Plan', 'Communication Plan'],
    lines: inState(['ACTIVATED'], 1200, 200),
    cells: (line) => [line.iccid, 'IoT 100MB', 'CP_Data_Only'],
  },
  {
    file: 'examples/pod19-test-ready.csv',
    account: 'jasper:pod19',
    changeType: 'status_update',
    description: 'Move 50 POD19 lines from inventory to test-ready',
    header: ['sim', 'status'],
    lines: inState(['INVENTORY'], 0, 50),
    cells: (line) => [line.iccid, 'test_ready'],
  },
];

/** The CSV text of an example, from the demo data it runs on. */
export function exampleCsv(example: DemoExample): string {
  const account = demoJasperAccounts.find((a) => `jasper:${a.key}` === example.account);
  if (!account) throw new Error(`No demo account ${example.account}`);
  const lines = example.lines(demoJasperLines(account, jasperRatePlans));
  return [example.header, ...lines.map(example.cells)].map((cells) => cells.join(',')).join('\n') + '\n';
}
