// Writes examples/*.csv from the demo data; `npm test` checks they are current.
import { writeFileSync } from 'node:fs';
import { demoExamples, exampleCsv } from '../src/demo/examples.ts';

for (const example of demoExamples) {
  writeFileSync(example.file, exampleCsv(example));
  process.stdout.write(`${example.file}\n`);
}
