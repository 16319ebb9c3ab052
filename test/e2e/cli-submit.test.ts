import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type E2eStack, startE2eStack } from '../support/e2e-stack.ts';
import {
  type BulkChangeView,
  freePort,
  listAll,
  runCli,
  startCli,
  tempDir,
  waitUntil,
} from '../support/processes.ts';
import { xlsxFile } from '../support/xlsx.ts';

interface Change {
  row: number;
  iccid: string;
  status: string;
  error: { code: string } | null;
}

/**
 * The real `bulkchange submit`, and the commands that follow a bulk change (status, list, results,
 * cancel, retry, watch), against a real `serve` and `simulate jasper` (processes of their own).
 */
describe('bulkchange submit, status, list, results, cancel, pause, resume, retry, watch', () => {
  let stack: E2eStack;
  const files = tempDir('bulkchange-submit-');
  const limits = { requestsPerSecond: 10, maxConcurrent: 2 };

  before(async () => {
    stack = await startE2eStack({ dialect: 'sqlite' });
    await stack.startServer();
  });
  after(async () => {
    await stack?.close();
    files.remove();
  });

  /** Writes a CSV into the test's folder and returns its path. */
  const csvFile = (name: string, lines: string[]) => {
    const file = path.join(files.dir, name);
    writeFileSync(file, `${lines.join('\n')}\n`);
    return file;
  };
  const submit = (args: string[], env: Record<string, string> = {}) =>
    runCli(['submit', ...args], { LOG_LEVEL: 'warn', ...env }, 60_000);
  const withServer = () => ['--url', stack.url, '--key', stack.adminKey];
  /** Any other command, against the stack's server unless `env` or the arguments say otherwise. */
  const cli = (args: string[], env: Record<string, string> = {}) =>
    runCli(args, { LOG_LEVEL: 'warn', ...env }, 60_000);
  /** Submits without waiting and returns the new bulk change's id. */
  const created = async (args: string[]) => {
    const result = await submit([...args, ...withServer()]);
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    const [, id] = result.stdout.match(/^Bulk change (\S+): queued/m) ?? [];
    assert.ok(id, result.stdout);
    return id;
  };
  /** The arguments of a status update from `file` on `account` (its id or its name). */
  const statusUpdate = (file: string, account: string) => [
    file,
    '--account',
    account,
    '--type',
    'status_update',
  ];
  const badLuhn = (iccid: string) => iccid.slice(0, -1) + String((Number(iccid.at(-1)) + 1) % 10);
  const bulkChangesOf = (accountId: string) =>
    listAll<BulkChangeView>(stack.api, `/api/v1/bulk-changes?carrierAccountId=${accountId}`);

  it('a dry run lists the rows that would fail, exits 1 and creates nothing', async () => {
    const { accountId, iccids } = await stack.createJasperAccount({ limits, count: 3, prefix: '8901401' });
    const file = csvFile('dry-run.csv', [
      'iccid,target_status',
      `${iccids[0]},active`,
      `${badLuhn(iccids[1])},active`,
      `${iccids[2]},active`,
    ]);
    const result = await submit([...statusUpdate(file, accountId), '--dry-run', ...withServer()]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stdout, /Dry run: 3 rows; 2 would succeed, 1 would fail/);
    assert.match(result.stdout, new RegExp(`^row 2\\s+${badLuhn(iccids[1])}\\s+INVALID_LUHN\\s+\\S`, 'm'));
    assert.doesNotMatch(result.stdout, new RegExp(iccids[0]), 'rows that would succeed are not listed');
    assert.deepEqual(await bulkChangesOf(accountId), []);
  });

  it('takes an .xlsx like a CSV: its first sheet, the same checks, the same report', async () => {
    const { accountId, iccids } = await stack.createJasperAccount({ limits, count: 3, prefix: '8901411' });
    const file = path.join(files.dir, 'lines.xlsx');
    writeFileSync(
      file,
      await xlsxFile({
        Lines: [
          ['ICCID', 'Target Status'],
          [iccids[0], 'active'],
          [Number(iccids[1]), 'active'],
          [badLuhn(iccids[2]), 'active'],
        ],
      }),
    );
    const result = await submit([...statusUpdate(file, accountId), '--dry-run', ...withServer()]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stdout, /Dry run: 3 rows; 1 would succeed, 2 would fail/);
    assert.match(result.stdout, /^row 2\s+.*NUMBER_NOT_EXACT\s+.*Format the column as Text/m);
    assert.match(result.stdout, new RegExp(`^row 3\\s+${badLuhn(iccids[2])}\\s+INVALID_LUHN`, 'm'));
    const created = await submit([...statusUpdate(file, accountId), '--accept-valid-rows', ...withServer()]);
    assert.equal(created.code, 0, created.stdout + created.stderr);
    const [change] = await bulkChangesOf(accountId);
    assert.equal(change.counts.total, 1);
  });

  it('a refused file (422) prints every problem as an aligned table, capped, and exits 1', async () => {
    const { accountId, iccids } = await stack.createJasperAccount({ limits, count: 2, prefix: '8901402' });
    const bad = Array.from(
      { length: 55 },
      (_, index) => `${badLuhn(iccids[0]).slice(0, -3)}${String(index).padStart(3, '0')},active`,
    );
    const file = csvFile('refused.csv', [
      'iccid,target_status',
      `${iccids[0]},active`,
      `${iccids[1]},bogus`,
      ...bad,
    ]);
    const result = await submit([...statusUpdate(file, accountId), ...withServer()]);
    assert.equal(result.code, 1, result.stderr);
    assert.match(result.stdout, /^Refused \(422 VALIDATION_FAILED\): /);
    const lines = result.stdout.split('\n');
    const row2 = lines.find((line) => line.startsWith('row 2 '));
    assert.match(row2 ?? '', /^row 2 {3}targetStatus {2}INVALID_FIELD {2}\S/, 'columns are two spaces apart');
    const row10 = lines.find((line) => line.startsWith('row 10 '));
    assert.equal(row10?.indexOf('iccid'), row2?.indexOf('targetStatus'), 'the field column is aligned');
    assert.equal(
      lines.filter((line) => line.startsWith('row ')).length,
      50,
      'at most 50 problems are listed',
    );
    assert.match(result.stdout, /… and \d+ more/);
    assert.deepEqual(await bulkChangesOf(accountId), []);
  });

  it('--wait shows the progress and ends with exit 0 when every row succeeded; --option fills a field', async () => {
    const { accountId, iccids } = await stack.createJasperAccount({ limits, count: 20, prefix: '8901403' });
    const file = csvFile('activate.csv', ['iccid', ...iccids]);
    const args = [...statusUpdate(file, accountId), '--option', 'target_status=active'];
    const result = await submit([...args, '--wait', '--idempotency-key', 'activate-20', ...withServer()]);
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    const [, id] = result.stdout.match(/^Bulk change (\S+): queued, 20 rows/m) ?? [];
    assert.ok(id, result.stdout);
    assert.match(result.stderr, /\[#{30}\] +100% {2}20\/20 {2}succeeded 20 {2}failed 0 {2}\(completed\)/);
    assert.match(
      result.stdout,
      new RegExp(`Bulk change ${id} completed: 20 succeeded, 0 failed, 0 cancelled of 20`),
    );
    assert.doesNotMatch(result.stdout, /Failed rows/);
    const lines = await stack.sim.devices();
    assert.equal(
      lines.filter((line) => iccids.includes(line.iccid) && line.state === 'ACTIVATED').length,
      20,
    );

    const again = await submit([...args, '--idempotency-key', 'activate-20', ...withServer()]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(
      again.stdout,
      new RegExp(`^Bulk change ${id}: completed.*Idempotency-Key was used before`, 'm'),
    );
    assert.equal((await bulkChangesOf(accountId)).length, 1);
  });

  it('--wait exits 3 and lists the rows the carrier refused', async () => {
    const { accountId, iccids } = await stack.createJasperAccount({ limits, count: 8, prefix: '8901404' });
    // The inventory still says ACTIVATION_READY, so intake lets them through; Control Center refuses.
    const retired = [iccids[2], iccids[5]];
    await stack.sim.seed(retired.map((iccid) => ({ iccid, state: 'RETIRED' })));
    const file = csvFile('partly.csv', ['iccid,target_status', ...iccids.map((iccid) => `${iccid},active`)]);
    const result = await submit([...statusUpdate(file, accountId), '--wait', ...withServer()]);
    assert.equal(result.code, 3, `${result.stdout}\n${result.stderr}`);
    assert.match(result.stdout, /completed_with_errors: 6 succeeded, 2 failed, 0 cancelled of 8/);
    assert.match(result.stdout, /^Failed rows \(2\):\nrow {2}iccid {16}code {16}message$/m);
    assert.match(
      result.stdout,
      new RegExp(`^3 {4}${retired[0]}  INVALID_TRANSITION  .*20000017.*from RETIRED to ACTIVATED$`, 'm'),
    );
    assert.match(result.stdout, new RegExp(`^6 {4}${retired[1]}  INVALID_TRANSITION  `, 'm'));
    const [bulkChange] = await bulkChangesOf(accountId);
    const failed = await listAll<Change>(
      stack.api,
      `/api/v1/bulk-changes/${bulkChange.id}/changes?status=failed`,
    );
    assert.deepEqual(failed.map((change) => change.iccid).sort(), [...retired].sort());
  });

  it('--wait keeps following across a server restart and still ends with the outcome', async () => {
    // One line at a time, 5 a second: the run outlives the restart.
    const slow = { requestsPerSecond: 5, maxConcurrent: 1 };
    const { accountId, iccids } = await stack.createJasperAccount({
      limits: slow,
      count: 30,
      prefix: '8901407',
    });
    const file = csvFile('restart.csv', ['iccid,target_status', ...iccids.map((iccid) => `${iccid},active`)]);
    const child = startCli(['submit', ...statusUpdate(file, accountId), '--wait', ...withServer()], {
      LOG_LEVEL: 'warn',
    });
    await waitUntil('the first progress line', async () =>
      /\(processing\)/.test(child.stderr) ? true : undefined,
    );
    assert.equal(await stack.server!.kill('SIGKILL'), 'SIGKILL');
    await stack.startServer();
    const deadline = setTimeout(() => child.process.kill('SIGKILL'), 60_000);
    const code = await child.exited;
    clearTimeout(deadline);
    assert.equal(code, 0, `${child.stdout}\n${child.stderr}`);
    assert.match(child.stdout, /completed: 30 succeeded, 0 failed, 0 cancelled of 30/);
  });

  it('--account takes the account name; an unknown one exits 2 and lists the accounts', async () => {
    const { iccids } = await stack.createJasperAccount({ limits, count: 2, prefix: '8901405' });
    const file = csvFile('by-name.csv', ['iccid,target_status', ...iccids.map((iccid) => `${iccid},active`)]);
    const byName = await submit([...statusUpdate(file, 'jasper e2e 8901405'), '--dry-run', ...withServer()]);
    assert.equal(byName.code, 0, `${byName.stdout}\n${byName.stderr}`);
    assert.match(byName.stdout, /Dry run: 2 rows; 2 would succeed, 0 would fail/);

    const unknown = await submit([...statusUpdate(file, 'no such account'), ...withServer()]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /No carrier account with the id or name "no such account"/);
    assert.match(unknown.stderr, /jasper e2e 8901405 \(/);
  });

  it('without --url and --key it uses the demo file of BULKCHANGE_DATA_DIR, and says so when there is none', async () => {
    const { accountId, iccids } = await stack.createJasperAccount({ limits, count: 1, prefix: '8901406' });
    const file = csvFile('demo.csv', ['iccid,target_status', `${iccids[0]},active`]);
    const demoDir = tempDir('bulkchange-submit-demo-');
    try {
      writeFileSync(
        path.join(demoDir.dir, 'demo.json'),
        JSON.stringify({ baseUrl: stack.url, apiKey: stack.adminKey, tenant: 'acme', carrierAccounts: [] }),
      );
      const result = await submit([...statusUpdate(file, accountId), '--dry-run'], {
        BULKCHANGE_DATA_DIR: demoDir.dir,
      });
      assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
      assert.match(result.stdout, /1 would succeed, 0 would fail/);
    } finally {
      demoDir.remove();
    }
    const empty = tempDir('bulkchange-submit-nodemo-');
    try {
      const result = await submit(statusUpdate(file, accountId), {
        BULKCHANGE_DATA_DIR: empty.dir,
      });
      assert.equal(result.code, 2);
      assert.match(
        result.stderr,
        /Give --url and --key \(or BULKCHANGE_URL and BULKCHANGE_API_KEY\), or start the demo/,
      );
    } finally {
      empty.remove();
    }
  });

  it('usage errors and an unreachable server exit 2 with a clear message', async () => {
    const file = csvFile('any.csv', ['iccid,target_status']);
    const noType = await submit([file, '--account', 'x', ...withServer()]);
    assert.equal(noType.code, 2);
    assert.match(noType.stderr, /--type must be one of status_update/);
    const missing = await submit([
      ...statusUpdate(path.join(files.dir, 'missing.csv'), 'x'),
      ...withServer(),
    ]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /Cannot read .*missing\.csv/);
    const port = await freePort();
    const down = await submit([
      ...statusUpdate(file, 'x'),
      '--url',
      `http://127.0.0.1:${port}`,
      '--key',
      'k',
    ]);
    assert.equal(down.code, 2);
    assert.match(
      down.stderr,
      new RegExp(`Cannot reach the bulkchange API at http://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`),
    );
  });

  it('watch, status, list and results follow a bulk change; retry prints the new id alone and is refused twice', async () => {
    const { accountId, iccids } = await stack.createJasperAccount({ limits, count: 6, prefix: '8901408' });
    const retired = [iccids[1], iccids[4]];
    await stack.sim.seed(retired.map((iccid) => ({ iccid, state: 'RETIRED' })));
    const file = csvFile('follow.csv', ['iccid,target_status', ...iccids.map((iccid) => `${iccid},active`)]);
    const id = await created(statusUpdate(file, accountId));

    const watched = await cli(['watch', id, ...withServer()]);
    assert.equal(watched.code, 3, `${watched.stdout}\n${watched.stderr}`);
    assert.match(watched.stderr, /100% {2}6\/6 {2}succeeded 4 {2}failed 2 {2}\(completed_with_errors\)/);
    assert.match(
      watched.stdout,
      new RegExp(`^Bulk change ${id} completed_with_errors: 4 succeeded, 2 failed`, 'm'),
    );
    assert.match(watched.stdout, new RegExp(`^5 {4}${retired[1]}  INVALID_TRANSITION  `, 'm'));

    const status = await cli(['status', id, ...withServer()]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(
      status.stdout,
      new RegExp(`^Bulk change ${id}\n {2}status +completed_with_errors\n {2}type +status_update\n`),
    );
    assert.match(status.stdout, /^ {2}rows +6: succeeded 4, failed 2, cancelled 0, open 0$/m);
    assert.match(status.stdout, /^ {2}finished +\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ \(\d+s\)$/m);
    const json = JSON.parse((await cli(['status', id, '--json', ...withServer()])).stdout);
    assert.equal(json.id, id);
    assert.deepEqual([json.counts.total, json.counts.succeeded, json.counts.failed], [6, 4, 2]);

    const listed = await cli([
      'list',
      '--account',
      'jasper e2e 8901408',
      '--status',
      'completed_with_errors',
      ...withServer(),
    ]);
    assert.equal(listed.code, 0, listed.stderr);
    const [header, ...lines] = listed.stdout.trim().split('\n');
    assert.match(header, /^ID +CREATED +TYPE +CARRIER +STATUS +ROWS +SUCCEEDED +FAILED$/);
    assert.equal(lines.length, 1, listed.stdout);
    assert.match(
      lines[0],
      new RegExp(
        `^${id}  \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ  status_update  jasper +completed_with_errors +6 +4 +2$`,
      ),
    );
    const none = await cli(['list', '--account', accountId, '--status', 'processing', ...withServer()]);
    assert.equal(none.stdout, 'No bulk changes.\n');

    const out = path.join(files.dir, 'results.csv');
    const written = await cli(['results', id, '--out', out, ...withServer()]);
    assert.equal(written.code, 0, written.stderr);
    const csv = readFileSync(out, 'utf8');
    const rows = csv.trim().split('\n');
    assert.match(rows[0], /^row,iccid,/);
    assert.equal(rows.length, 7);
    assert.match(rows[5], new RegExp(`^5,${retired[1]},.*,failed,INVALID_TRANSITION,`));
    const streamed = await cli(['results', id, ...withServer()]);
    assert.equal(streamed.stdout, csv, 'stdout gets the same file');

    await stack.sim.seed(retired.map((iccid) => ({ iccid, state: 'ACTIVATION_READY' })));
    const retried = await cli(['retry', id, ...withServer()]);
    assert.equal(retried.code, 0, retried.stderr);
    assert.match(retried.stdout, /^[0-9a-f-]{36}\n$/, 'the new id alone');
    const retryId = retried.stdout.trim();
    assert.match(retried.stderr, new RegExp(`^Bulk change ${retryId}: queued, 2 rows`, 'm'));
    const retryWatched = await cli(['watch', retryId, ...withServer()]);
    assert.equal(retryWatched.code, 0, `${retryWatched.stdout}\n${retryWatched.stderr}`);
    assert.match(retryWatched.stdout, /completed: 2 succeeded, 0 failed, 0 cancelled of 2/);
    assert.match(
      (await cli(['status', retryId, ...withServer()])).stdout,
      new RegExp(`^ {2}retry of +${id}$`, 'm'),
    );

    const again = await cli(['retry', id, ...withServer()]);
    assert.equal(again.code, 1, again.stderr);
    assert.match(again.stderr, /^Refused \(409 ALREADY_RETRIED\): /);
    assert.equal(again.stdout, '');
  });

  it('cancel cancels the rows not yet sent; --wait ends with exit 3; cancelling again is refused (exit 1)', async () => {
    const { accountId, iccids } = await stack.createJasperAccount({
      limits: { requestsPerSecond: 5, maxConcurrent: 1 },
      count: 40,
      prefix: '8901409',
    });
    const file = csvFile('cancel.csv', ['iccid,target_status', ...iccids.map((iccid) => `${iccid},active`)]);
    const id = await created(statusUpdate(file, accountId));
    const cancelled = await cli(['cancel', id, '--wait', ...withServer()]);
    assert.equal(cancelled.code, 3, `${cancelled.stdout}\n${cancelled.stderr}`);
    assert.match(cancelled.stdout, new RegExp(`^Cancel requested\\. Bulk change ${id}: `));
    const [, succeeded, cancelledRows] =
      cancelled.stdout.match(
        new RegExp(`^Bulk change ${id} cancelled: (\\d+) succeeded, 0 failed, (\\d+) cancelled of 40$`, 'm'),
      ) ?? [];
    assert.ok(Number(cancelledRows) > 0, cancelled.stdout);
    assert.equal(Number(succeeded) + Number(cancelledRows), 40);
    const calls = (await stack.sim.calls()).filter((call) => iccids.includes(call.iccids[0] ?? ''));
    assert.ok(calls.length <= Number(succeeded) * 2, 'cancelled rows are not sent');

    const again = await cli(['cancel', id, ...withServer()]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^Refused \(409 BULK_CHANGE_FINISHED\): The bulk change is already cancelled/);
  });

  it('pause stops the sending, resume --wait carries on to the end; resuming again is refused (exit 1)', async () => {
    const { accountId, iccids } = await stack.createJasperAccount({
      // 30-row chunks (3 s of calls), two claimed at a time: a pause takes effect between chunks.
      limits: { requestsPerSecond: 10, maxConcurrent: 1 },
      count: 100,
      prefix: '8901412',
    });
    const file = csvFile('pause.csv', ['iccid,target_status', ...iccids.map((iccid) => `${iccid},active`)]);
    const id = await created(statusUpdate(file, accountId));
    const paused = await cli(['pause', id, ...withServer()]);
    assert.equal(paused.code, 0, `${paused.stdout}\n${paused.stderr}`);
    assert.match(paused.stdout, new RegExp(`^Bulk change ${id}: paused, 100 rows$`, 'm'));
    // A chunk already claimed still goes out; after it, nothing more while paused.
    const sent = async () =>
      (await stack.sim.calls()).filter((call) => iccids.includes(call.iccids[0] ?? ''));
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const before = (await sent()).length;
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    assert.equal((await sent()).length, before, 'nothing sent while paused');
    assert.ok(before < 100, `${before} lines sent before the pause took effect`);

    const resumed = await cli(['resume', id, '--wait', ...withServer()]);
    assert.equal(resumed.code, 0, `${resumed.stdout}\n${resumed.stderr}`);
    assert.match(
      resumed.stdout,
      new RegExp(`^Bulk change ${id} completed: 100 succeeded, 0 failed, 0 cancelled of 100$`, 'm'),
    );
    const changed = (await sent()).filter((call) => call.status === 200 && call.method === 'PUT');
    assert.equal(new Set(changed.map((call) => call.iccids[0])).size, 100, 'every line changed');
    assert.equal(changed.length, 100, 'none twice');

    const again = await cli(['resume', id, ...withServer()]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^Refused \(409 BULK_CHANGE_NOT_PAUSED\): /);
  });

  it('the commands take the API from BULKCHANGE_URL and BULKCHANGE_API_KEY; usage errors exit 2, unknown ids 1', async () => {
    const env = { BULKCHANGE_URL: stack.url, BULKCHANGE_API_KEY: stack.adminKey };
    const listed = await cli(['list', '--limit', '1'], env);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^ID +CREATED/);
    assert.match(listed.stderr, /^More: add --cursor \S+$/m);

    const unknown = await cli(['watch', 'no-such-change'], env);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^Refused \(404 NOT_FOUND\): /);
    const noId = await cli(['status'], env);
    assert.equal(noId.code, 2);
    assert.match(noId.stderr, /Name one bulk change: bulkchange status <id>\nRun "bulkchange status --help"/);
    const badStatus = await cli(['list', '--status', 'bogus'], env);
    assert.equal(badStatus.code, 2);
    assert.match(badStatus.stderr, /--status must be one of scheduled, queued/);
    const badKey = await cli(['list'], { ...env, BULKCHANGE_API_KEY: 'bck_wrong' });
    assert.equal(badKey.code, 2, 'a refused key is no refusal of the request');
    assert.match(badKey.stderr, /answered 401: UNAUTHENTICATED/);
    for (const command of ['status', 'list', 'results', 'cancel', 'retry', 'watch']) {
      const help = await cli([command, '--help']);
      assert.equal(help.code, 0, help.stderr);
      assert.match(help.stdout, new RegExp(`^Usage: bulkchange ${command}`));
      assert.match(help.stdout, /^Exit codes/m);
    }
  });
});
