import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Progress } from './api-answers.ts';
import { createProgressBar, progressLine } from './progress-bar.ts';

const progress = (status: string, counts: Partial<Progress['counts']>): Progress => ({
  status,
  counts: {
    total: 10,
    queued: 0,
    inProgress: 0,
    waiting: 0,
    succeeded: 0,
    failed: 0,
    cancelled: 0,
    ...counts,
  },
});

const recorder = (isTTY: boolean) => {
  const writes: string[] = [];
  return { writes, output: { isTTY, write: (text: string) => writes.push(text) } };
};

describe('the progress bar', () => {
  it('fills with the rows that have an outcome and names what is still open', () => {
    assert.equal(
      progressLine(progress('processing', { succeeded: 3, failed: 1, inProgress: 2, queued: 4 })),
      `[${'#'.repeat(12)}${'·'.repeat(18)}]   40%  4/10  succeeded 3  failed 1  in progress 2  (processing)`,
    );
  });

  it('on a terminal redraws one line in place and ends it with a newline', () => {
    const { writes, output } = recorder(true);
    const bar = createProgressBar(output);
    bar.update(progress('processing', { succeeded: 5, queued: 5 }));
    bar.update(progress('completed', { succeeded: 10 }));
    bar.finish();
    assert.equal(writes.length, 3);
    assert.ok(writes.slice(0, 2).every((text) => text.startsWith('\r') && !text.includes('\n')));
    assert.match(writes[1], /100% {2}10\/10/);
    assert.equal(writes[2], '\n');
  });

  it('elsewhere prints a line per status change or interval, and the last state at the end', () => {
    const { writes, output } = recorder(false);
    let now = 0;
    const bar = createProgressBar(output, 5_000, () => now);
    bar.update(progress('processing', { succeeded: 1, queued: 9 }));
    now = 1_000;
    bar.update(progress('processing', { succeeded: 2, queued: 8 }));
    now = 6_000;
    bar.update(progress('processing', { succeeded: 7, queued: 3 }));
    now = 7_000;
    bar.update(progress('processing', { succeeded: 9, queued: 1 }));
    bar.finish();
    assert.deepEqual(
      writes.map((text) => text.match(/(\d+)\/10/)?.[1]),
      ['1', '7', '9'],
    );
    assert.ok(writes.every((text) => text.endsWith('\n') && !text.includes('\r')));
  });
});
