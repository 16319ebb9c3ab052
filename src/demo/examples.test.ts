import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { demoExamples, exampleCsv } from './examples.ts';

it('ships every example CSV as the demo data generates it (npm run examples rewrites them)', () => {
  for (const example of demoExamples) {
    assert.equal(readFileSync(example.file, 'utf8'), exampleCsv(example), example.file);
    assert.ok(exampleCsv(example).split('\n').length > 10, `${example.file} has rows`);
  }
});

it('uses disjoint lines, so the examples can run at the same time', () => {
  const seen = new Set<string>();
  for (const example of demoExamples) {
    for (const line of exampleCsv(example).trim().split('\n').slice(1)) {
      const iccid = line.split(',')[0];
      assert.ok(!seen.has(iccid), `${iccid} is in two examples`);
      seen.add(iccid);
    }
  }
});
