import assert from 'node:assert/strict';
import { it } from 'node:test';
import { CallLog } from './call-log.ts';

const entry = (n: number) => ({
  at: new Date(n).toISOString(),
  method: 'PUT',
  path: `/devices/${n}`,
  action: n % 2 === 0 ? 'even' : 'odd',
  iccids: [String(n)],
  status: 200,
});

it('keeps only the newest entries, oldest first, and filters them', () => {
  const log = new CallLog(3);
  for (let n = 1; n <= 5; n += 1) log.record(entry(n));
  assert.deepEqual(
    log.query().map((call) => call.iccids[0]),
    ['3', '4', '5'],
  );
  assert.deepEqual(
    log.query({ action: 'odd' }).map((call) => call.iccids[0]),
    ['3', '5'],
  );
  assert.equal(log.count({ iccid: '4', action: 'even' }), 1);
  assert.equal(log.count({ iccid: '1' }), 0);
  log.clear();
  assert.deepEqual(log.query(), []);
});
