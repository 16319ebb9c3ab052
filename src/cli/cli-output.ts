import type { ProgressOutput } from './progress-bar.ts';

/** Where a command writes: reports (and a results file) on stdout; its own errors and progress on stderr. */
export interface CliOutput {
  stdout: NodeJS.WritableStream;
  /** A TTY gets the progress bar redrawn in place. */
  stderr: ProgressOutput;
}

export const processOutput: CliOutput = { stdout: process.stdout, stderr: process.stderr };
