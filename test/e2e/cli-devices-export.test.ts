import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type E2eStack, startE2eStack } from '../support/e2e-stack.ts';
import { runCli, tempDir } from '../support/processes.ts';
import { xlsxRows } from '../support/xlsx.ts';

/**
 * The real `bulkchange devices export` and `bulkchange submit` against a real `serve` and `simulate
 * jasper`: a selection exported for editing, three cells edited, the file submitted back as it is.
 */
describe('bulkchange devices export, edited and submitted back', () => {
  let stack: E2eStack;
  const files = tempDir('bulkchange-export-');

  before(async () => {
    stack = await startE2eStack({ dialect: 'sqlite' });
    await stack.startServer();
  });
  after(async () => {
    await stack?.close();
    files.remove();
  });

  const cli = (args: string[]) =>
    runCli([...args, '--url', stack.url, '--key', stack.adminKey], { LOG_LEVEL: 'warn' }, 60_000);

  it('writes the CSV with current_ columns; the edited file creates only the edited rows and says how many it left out', async () => {
    const { iccids } = await stack.createJasperAccount({
      limits: { requestsPerSecond: 10, maxConcurrent: 2 },
      count: 10,
      prefix: '8901711',
      state: 'ACTIVATED',
    });
    const account = 'jasper e2e 8901711';
    const csv = path.join(files.dir, 'lines.csv');
    const exported = await cli([
      'devices',
      'export',
      '--change-type',
      'status_update',
      '--account',
      account,
      '--out',
      csv,
    ]);
    assert.equal(exported.code, 0, `${exported.stdout}\n${exported.stderr}`);
    assert.match(exported.stderr, /Wrote the lines of account .* to /);
    const [header, ...lines] = readFileSync(csv, 'utf8').trim().split('\n');
    assert.equal(header, 'iccid,current_status,target_status');
    assert.deepEqual(lines.map((line) => line.split(',')[0]).sort(), [...iccids].sort());
    assert.ok(lines.every((line) => line.endsWith(',active,active')));

    const edited = lines.map((line, index) =>
      [1, 4, 8].includes(index) ? line.replace(/,active$/, ',deactivated') : line,
    );
    writeFileSync(csv, `${[header, ...edited].join('\n')}\n`);
    const dryRun = await cli(['submit', csv, '--account', account, '--type', 'status_update', '--dry-run']);
    assert.equal(dryRun.code, 0, `${dryRun.stdout}\n${dryRun.stderr}`);
    assert.match(
      dryRun.stdout,
      /3 would succeed, 0 would fail, 7 left out \(7 not edited in the file exported for editing\)/,
    );
    const submitted = await runCli(
      [
        'submit',
        csv,
        '--account',
        account,
        '--type',
        'status_update',
        '--url',
        stack.url,
        '--key',
        stack.adminKey,
      ],
      { LOG_LEVEL: 'warn' },
      60_000,
    );
    assert.equal(submitted.code, 0, `${submitted.stdout}\n${submitted.stderr}`);
    assert.match(submitted.stdout, /^Bulk change \S+: queued, 3 rows/m);
    assert.match(submitted.stdout, /Left out: 7 rows whose line already is what they ask for, or not edited/);

    // The same export as XLSX, the format taken from the file's name.
    const xlsx = path.join(files.dir, 'lines.xlsx');
    const workbook = await cli([
      'devices',
      'export',
      '--change-type',
      'carrier_rate_plan_change',
      '--account',
      account,
      '--out',
      xlsx,
    ]);
    assert.equal(workbook.code, 0, `${workbook.stdout}\n${workbook.stderr}`);
    const { rows } = await xlsxRows(readFileSync(xlsx));
    assert.deepEqual(rows[0], [
      'iccid',
      'current_carrier_rate_plan',
      'carrier_rate_plan',
      'current_communication_plan',
      'communication_plan',
    ]);
    assert.equal(rows.length, 11);

    const unknownType = await cli(['devices', 'export', '--change-type', 'archival', '--account', account]);
    assert.equal(unknownType.code, 2);
    assert.match(unknownType.stderr, /--change-type must be one of status_update/);
  });
});
