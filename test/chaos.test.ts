import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { type ChaosReport, formatReport, runChaos } from './chaos/run.ts';
import { testDialects } from './support/databases.ts';

/**
 * The short version of `npm run chaos` (scripts/chaos.ts): one round per database, 20 Jasper lines and
 * 10 ThingSpace lines through 20 seconds of engine processes killed with `kill -9` and carrier fault
 * mixes. The seed changes with the day and is printed, so a failure can be run again
 * (`npm run chaos -- --seed S --rounds 1 --jasper-lines 20 --thingspace-lines 10 --chaos-s 20`).
 */
const seed = Math.floor(Date.now() / 86_400_000);

for (const dialect of testDialects) {
  describe(`chaos on ${dialect}`, () => {
    let report: ChaosReport;
    let summary: string;
    before(async () => {
      report = await runChaos({
        dialect,
        rounds: 1,
        jasperLines: 20,
        thingSpaceLines: 10,
        chaosMs: 20_000,
        settleMs: 90_000,
        seed,
      });
      summary = `${formatReport(report)}\n${report.problems.join('\n')}`;
    });

    it('loses no row, applies nothing twice, answers no 5xx and leaves nothing stuck', (t) => {
      t.diagnostic(summary);
      assert.ok(report.tally.kills >= 1, `no worker was killed:\n${summary}`);
      assert.equal(report.tally.rows, 30, summary);
      assert.equal(report.figures.rowsLost, 0, summary);
      assert.equal(report.figures.duplicates, 0, summary);
      assert.equal(report.figures.serverErrors, 0, summary);
      assert.equal(report.figures.stuckChanges, 0, summary);
    });

    it('keeps every account within its rate at the carrier', () => {
      assert.equal(report.figures.limitOvershoot, 0, summary);
    });
  });
}
