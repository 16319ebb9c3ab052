/**
 * `npm run chaos`: rounds of bulk changes (Jasper status updates, ThingSpace activations) on real
 * processes while engine processes are killed (`kill -9`) and started again at random moments and the
 * carrier simulators go through fault mixes (5xx, 429 with Retry-After, latency and timeouts, outages,
 * ThingSpace token expiry) (test/chaos/). SQLite always, PostgreSQL too when TEST_DATABASE_URL is set.
 * Prints the figures (rows lost, duplicates, 5xx, stuck changes, limit overshoot) and exits 1 when one
 * is not zero.
 *
 *   npm run chaos [-- --rounds N] [--jasper-lines N] [--thingspace-lines N] [--chaos-s S] [--settle-s S] [--seed S]
 */
import { parseArgs } from 'node:util';
import { clean, formatReport, runChaos } from '../test/chaos/run.ts';
import { testDialects } from '../test/support/databases.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '4' },
    'jasper-lines': { type: 'string', default: '60' },
    'thingspace-lines': { type: 'string', default: '40' },
    'chaos-s': { type: 'string', default: '40' },
    'settle-s': { type: 'string', default: '120' },
    seed: { type: 'string' },
  },
});
const numbers = {
  rounds: Number(values.rounds),
  jasperLines: Number(values['jasper-lines']),
  thingSpaceLines: Number(values['thingspace-lines']),
  chaosS: Number(values['chaos-s']),
  settleS: Number(values['settle-s']),
  seed: values.seed === undefined ? Date.now() % 1_000_000 : Number(values.seed),
};
if (!Object.values(numbers).every((value) => Number.isInteger(value) && value >= 0) || numbers.rounds < 1) {
  process.stderr.write(
    'Usage: npm run chaos -- [--rounds N] [--jasper-lines N] [--thingspace-lines N] [--chaos-s S] [--settle-s S] [--seed S]\n',
  );
  process.exit(2);
}

let allClean = true;
for (const dialect of testDialects) {
  const report = await runChaos({
    dialect,
    rounds: numbers.rounds,
    jasperLines: numbers.jasperLines,
    thingSpaceLines: numbers.thingSpaceLines,
    chaosMs: numbers.chaosS * 1000,
    settleMs: numbers.settleS * 1000,
    seed: numbers.seed,
    onProgress: (line) => process.stderr.write(`${dialect}: ${line}\n`),
  });
  process.stdout.write(`${formatReport(report)}\n`);
  for (const problem of report.problems) process.stdout.write(`  ${problem}\n`);
  process.stdout.write('\n');
  allClean &&= clean(report);
}
if (!testDialects.includes('postgres'))
  process.stdout.write('PostgreSQL skipped: TEST_DATABASE_URL is not set\n');
process.stdout.write(allClean ? 'chaos: clean\n' : 'chaos: FAILED (see above)\n');
process.exit(allClean ? 0 : 1);
