/**
 * `npm run fuzz`: at least 10,000 generated requests per database across every route, content type and
 * kind of malformation (test/fuzz/), against the real service over HTTP: SQLite always, PostgreSQL too
 * when TEST_DATABASE_URL is set. Prints the answers per route and exits 1 on any 5xx, any request
 * without an answer, any error outside the documented shape, or a route no generator covers.
 *
 *   npm run fuzz [-- --inputs N] [--seed S]
 */
import { parseArgs } from 'node:util';
import { clean, formatReport, runFuzz } from '../test/fuzz/run.ts';
import { testDialects } from '../test/support/databases.ts';

const { values } = parseArgs({
  options: { inputs: { type: 'string', default: '10000' }, seed: { type: 'string' } },
});
const inputs = Number(values.inputs);
const seed = values.seed === undefined ? Date.now() % 1_000_000 : Number(values.seed);
if (!Number.isInteger(inputs) || inputs < 1 || !Number.isInteger(seed)) {
  process.stderr.write('Usage: npm run fuzz -- [--inputs N] [--seed S]\n');
  process.exit(2);
}

let allClean = true;
for (const dialect of testDialects) {
  const report = await runFuzz({
    dialect,
    inputs,
    seed,
    onProgress: (done) => process.stderr.write(`\r${dialect}: ${done}/${inputs}`),
  });
  process.stderr.write('\n');
  process.stdout.write(`${formatReport(report)}\n`);
  for (const failure of report.failures) process.stdout.write(`  ${JSON.stringify(failure)}\n`);
  process.stdout.write('\n');
  allClean &&= clean(report);
}
if (!testDialects.includes('postgres'))
  process.stdout.write('PostgreSQL skipped: TEST_DATABASE_URL is not set\n');
process.stdout.write(allClean ? 'fuzz: clean\n' : 'fuzz: FAILED (see above)\n');
process.exit(allClean ? 0 : 1);
