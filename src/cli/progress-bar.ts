import type { Counts, Progress } from './api-answers.ts';

const BAR_WIDTH = 30;

/** Rows that have an outcome: nothing more will happen to them. */
const finished = (counts: Counts) => counts.succeeded + counts.failed + counts.cancelled;

/** `[########······]  42%  210/500  succeeded 200  failed 10  in progress 5  (running)` */
export function progressLine({ status, counts }: Progress): string {
  const share = counts.total === 0 ? 1 : finished(counts) / counts.total;
  const filled = Math.round(share * BAR_WIDTH);
  const parts = [
    `[${'#'.repeat(filled)}${'·'.repeat(BAR_WIDTH - filled)}]`,
    `${String(Math.floor(share * 100)).padStart(3)}%`,
    `${finished(counts)}/${counts.total}`,
    `succeeded ${counts.succeeded}`,
    `failed ${counts.failed}`,
  ];
  const open = counts.inProgress + counts.waiting;
  if (open > 0) parts.push(`in progress ${open}`);
  if (counts.cancelled > 0) parts.push(`cancelled ${counts.cancelled}`);
  parts.push(`(${status})`);
  return parts.join('  ');
}

export interface ProgressOutput {
  write(text: string): unknown;
  isTTY?: boolean;
}

/**
 * Shows progress on `output`: on a terminal, one line redrawn in place; otherwise (a log, a pipe) a
 * plain line when the status changes or every `intervalMs`, so the log stays readable.
 */
export function createProgressBar(output: ProgressOutput, intervalMs = 5_000, now = Date.now) {
  let lastLine = '';
  let lastStatus = '';
  let lastPrinted = Number.NEGATIVE_INFINITY;
  let pendingLine = '';
  return {
    update(progress: Progress) {
      const line = progressLine(progress);
      if (output.isTTY) {
        // \x1b[K clears what a longer previous line left behind.
        output.write(`\r${line}\x1b[K`);
        lastLine = line;
        return;
      }
      pendingLine = line;
      if (progress.status !== lastStatus || now() - lastPrinted >= intervalMs) {
        output.write(`${line}\n`);
        lastLine = line;
        lastStatus = progress.status;
        lastPrinted = now();
      }
    },
    /** Ends the bar: the terminal line is kept, and a log gets the last state if it was not printed. */
    finish() {
      if (output.isTTY) {
        if (lastLine) output.write('\n');
      } else if (pendingLine && pendingLine !== lastLine) {
        output.write(`${pendingLine}\n`);
      }
    },
  };
}
