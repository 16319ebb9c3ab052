/**
 * Runs one scenario in this (fresh) process and writes its result as JSON to the given file:
 * `node bench/lib/run-scenario.ts <scenario> <out.json> [--profile <dir>]`. The runner kills the whole
 * process group at the scenario's time cap; SIGTERM first, which runs the cleanups (children, databases).
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { log, type ScenarioResult } from './report.ts';
import { runCleanups } from './stack.ts';

export interface ScenarioContext {
  /** When set, the server runs with `--cpu-prof` and writes its profile here. */
  profileDir?: string;
}

export type ScenarioRun = (context: ScenarioContext) => Promise<ScenarioResult>;

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { profile: { type: 'string' } },
});
const [name, outFile] = positionals;

let stopping = false;
const stop = (signal: string) => {
  if (stopping) process.exit(1);
  stopping = true;
  log(`${name}: ${signal}, cleaning up`);
  void runCleanups().finally(() => process.exit(1));
};
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));

const started = performance.now();
const loadBefore = os.loadavg().map((value) => Math.round(value * 100) / 100);
try {
  const module = (await import(`../scenarios/${name}.ts`)) as { run: ScenarioRun };
  const result = await module.run({ profileDir: values.profile });
  result.load = { before: loadBefore, after: os.loadavg().map((value) => Math.round(value * 100) / 100) };
  writeFileSync(outFile, `${JSON.stringify(result, null, 2)}\n`);
} catch (error) {
  const failed: ScenarioResult = {
    scenario: name,
    title: name,
    status: 'error',
    ranAt: new Date().toISOString(),
    durationMs: Math.round(performance.now() - started),
    figures: [],
    details: { error: (error as Error).stack ?? String(error) },
    notes: [`error: ${(error as Error).message}`],
  };
  writeFileSync(outFile, `${JSON.stringify(failed, null, 2)}\n`);
  log(`${name} failed: ${(error as Error).stack ?? error}`);
} finally {
  await runCleanups();
}
process.exit(0);
