import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { xlsxFile } from './table-files.ts';

describe('xlsxFile', () => {
  it('compresses as it goes when the lines come without a turn of the event loop (as from node:sqlite)', async () => {
    const lineCount = 20_000;
    let received = 0;
    let receivedAtLastLine = -1;
    async function* lines() {
      for (let row = 1; row <= lineCount; row++) {
        if (row === lineCount) receivedAtLastLine = received;
        yield [row, `8901777${String(row).padStart(12, '0')}5`, 'active', null];
      }
    }
    const file = xlsxFile({ sheet: 'Lines', columns: ['row', 'iccid', 'status', 'note'] }, lines());
    for await (const chunk of file) received += (chunk as Buffer).length;
    // Without turns the whole sheet's XML waited for the last line before any of it was compressed,
    // and nothing but the zip's first headers had come out by then.
    assert.ok(
      receivedAtLastLine > received / 4,
      `${receivedAtLastLine} of ${received} bytes out when the last line was read`,
    );
  });
});
