import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IndexedDeviceStore } from './indexed-device-store.ts';

interface Line {
  iccid: string;
  state: string;
  numbers: string[];
}

const store = () => new IndexedDeviceStore<Line>((line) => line.numbers);

describe('indexed device store', () => {
  it('finds a line by each of its keys, and follows a put that changes them', () => {
    const lines = store();
    lines.put({ iccid: '1', state: 'a', numbers: ['100', '101'] });
    assert.equal(lines.byKey('101')?.iccid, '1');
    lines.put({ iccid: '1', state: 'a', numbers: ['102'] });
    assert.deepEqual(
      ['100', '101', '102'].map((key) => lines.byKey(key)?.iccid),
      [undefined, undefined, '1'],
    );
  });

  it('keeps a key that a newer line took when the older line goes', () => {
    const lines = store();
    lines.put({ iccid: '1', state: 'a', numbers: ['100'] });
    lines.put({ iccid: '2', state: 'a', numbers: ['100'] });
    assert.equal(lines.delete('1'), true);
    assert.equal(lines.byKey('100')?.iccid, '2');
    assert.equal(lines.delete('2'), true);
    assert.equal(lines.byKey('100'), undefined);
  });

  it('forgets every key on clear', () => {
    const lines = store();
    lines.put({ iccid: '1', state: 'a', numbers: ['100'] });
    lines.clear();
    assert.deepEqual([lines.size, lines.byKey('100')], [0, undefined]);
  });
});
