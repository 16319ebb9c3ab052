import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clean, formatReport, runFuzz, totals } from './fuzz/run.ts';
import { testDialects } from './support/databases.ts';

/**
 * The short version of `npm run fuzz` (scripts/fuzz.ts): a few hundred generated requests across every
 * route, on each database; no 5xx, an answer to each, the documented error shape, every route covered.
 * A fixed seed per run of the suite would only ever try the same inputs: the seed changes with the day,
 * and a failure prints it so the run can be repeated (`npm run fuzz -- --seed S --inputs 400`).
 */
const seed = Math.floor(Date.now() / 86_400_000);

for (const dialect of testDialects) {
  describe(`fuzzing every route on ${dialect}`, () => {
    it('answers 400 generated requests without a 5xx, each in the documented shape', async () => {
      const report = await runFuzz({ dialect, inputs: 400, seed });
      const summary = `${formatReport(report)}\n${report.failures.map((failure) => JSON.stringify(failure)).join('\n')}`;
      assert.ok(clean(report), summary);
      assert.equal(totals(report).requests, 400);
      assert.ok(report.routes.size >= 50, `only ${report.routes.size} routes drawn:\n${summary}`);
    });
  });
}
