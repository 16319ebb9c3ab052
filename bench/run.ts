/**
 * `npm run bench [-- <scenario> ...] [--profile]`: runs each scenario in a fresh process (which starts its
 * own server and simulators over HTTP), prints a table, and writes bench/results/latest.json.
 * See docs/performance.md.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatSummary, summariseProfile } from './lib/profile-summary.ts';
import { log, markdownTable, type ScenarioResult, tableHeader, tableRows, textTable } from './lib/report.ts';
import { benchScale } from './lib/scale.ts';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(benchDir, '..');
const resultsDir = path.join(benchDir, 'results');

/** Every scenario, in run order, with the hard cap on its process (its own caps are lower). */
const scenarios: Record<string, { capS: number }> = {
  // The CSV, then the XLSX round trip (results.xlsx down, the same rows up as .xlsx).
  ingest: { capS: 900 },
  engine: { capS: 420 },
  limits: { capS: 240 },
  batched: { capS: 240 },
  progress: { capS: 300 },
  postgres: { capS: 600 },
  scaleout: { capS: 900 },
  answers: { capS: 600 },
};

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    profile: { type: 'boolean', default: false },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(
    `Usage: npm run bench [-- <scenario>...] [--profile] [--out file.json]\nScenarios: ${Object.keys(scenarios).join(', ')}\n`,
  );
  process.exit(0);
}
const unknown = positionals.filter((name) => !(name in scenarios));
if (unknown.length > 0) {
  process.stderr.write(
    `Unknown scenario ${unknown.join(', ')}; known: ${Object.keys(scenarios).join(', ')}\n`,
  );
  process.exit(2);
}
const selected = positionals.length > 0 ? positionals : Object.keys(scenarios);
const outFile = path.resolve(values.out ?? path.join(resultsDir, 'latest.json'));
const profileRoot = values.profile
  ? mkdtempSync(path.join(os.tmpdir(), 'bulkchange-bench-profiles-'))
  : undefined;

const runStarted = performance.now();
const loadAtStart = os.loadavg().map((value) => Math.round(value * 100) / 100);
const work = mkdtempSync(path.join(os.tmpdir(), 'bulkchange-bench-run-'));
const results: ScenarioResult[] = [];
for (const name of selected) {
  log(`── ${name} ──`);
  const result = await runScenario(name, scenarios[name].capS);
  results.push(result);
  log(`${name}: ${result.status} in ${Math.round(result.durationMs / 1000)} s`);
}
rmSync(work, { recursive: true, force: true });
const totalS = Math.round((performance.now() - runStarted) / 1000);

const profiles: Record<string, string> = {};
if (profileRoot) {
  mkdirSync(path.join(resultsDir, 'profiles'), { recursive: true });
  for (const name of selected) {
    // One directory per measured server (postgres has two); the largest profile in each is the measured
    // process (the others are the short set-up runs of the same server).
    const dirs = [
      path.join(profileRoot, name),
      path.join(profileRoot, name, 'engine'),
      path.join(profileRoot, name, 'limits'),
    ];
    for (const dir of dirs.filter((d) => existsSync(d))) {
      const files = readdirSync(dir)
        .filter((f) => f.endsWith('.cpuprofile'))
        .map((f) => path.join(dir, f))
        .sort((a, b) => statSync(b).size - statSync(a).size);
      if (files.length === 0) continue;
      const label = path.relative(profileRoot, dir).replaceAll(path.sep, '-');
      const summary = formatSummary(summariseProfile(files[0], 30));
      const target = path.join(resultsDir, 'profiles', `${label}-server.txt`);
      writeFileSync(
        target,
        `# ${label}: server CPU profile (node --cpu-prof), ${new Date().toISOString()}\n\n${summary}\n`,
      );
      profiles[label] = path.relative(repoRoot, target);
      log(`${label}: profile summary in ${profiles[label]} (raw: ${files[0]})`);
    }
  }
}

const rows = tableRows(results);
process.stdout.write(`\n${textTable(tableHeader, rows)}\n\n`);
for (const result of results) {
  for (const figure of result.figures.filter((f) => f.verdict === 'missed' && f.limitedBy)) {
    process.stdout.write(`${result.scenario} / ${figure.name} misses its target: ${figure.limitedBy}\n`);
  }
  for (const note of result.notes) process.stdout.write(`${result.scenario}: ${note}\n`);
}
process.stdout.write(
  `\nTotal: ${totalS} s${values.profile ? ' (profiled: figures are slower than a normal run)' : ''}\n`,
);

const report = mergeWithPrevious({
  generatedAt: new Date().toISOString(),
  command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
  totalSeconds: totalS,
  profiled: values.profile,
  scale: benchScale,
  machine: machineInfo(),
  code: codeInfo(),
  scenarios: results,
  profiles,
  markdownTable: markdownTable(tableHeader, rows),
});
mkdirSync(path.dirname(outFile), { recursive: true });
writeFileSync(outFile, `${JSON.stringify(report, null, 2)}\n`);
log(`wrote ${path.relative(repoRoot, outFile)}`);

/** Runs one scenario in its own process group, killed (SIGTERM, then SIGKILL) at its cap. */
async function runScenario(name: string, capS: number): Promise<ScenarioResult> {
  const started = performance.now();
  const out = path.join(work, `${name}.json`);
  const args = [path.join(benchDir, 'lib', 'run-scenario.ts'), name, out];
  if (profileRoot) args.push('--profile', path.join(profileRoot, name));
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'inherit', 'inherit'],
    detached: true,
    env: { ...process.env, BENCH_RUN_DIR: work },
  });
  let timedOut = false;
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {}
  };
  const timer = setTimeout(() => {
    timedOut = true;
    log(`${name}: over its ${capS} s cap, stopping it`);
    killGroup('SIGTERM');
    setTimeout(() => killGroup('SIGKILL'), 20_000).unref();
  }, capS * 1000);
  const forward = () => killGroup('SIGTERM');
  process.once('SIGINT', forward);
  await new Promise((resolve) => child.once('close', resolve));
  clearTimeout(timer);
  process.off('SIGINT', forward);
  // Whatever the scenario left behind in its group (it should be nothing) goes too.
  killGroup('SIGKILL');
  if (!timedOut && existsSync(out)) return JSON.parse(readFileSync(out, 'utf8')) as ScenarioResult;
  return {
    scenario: name,
    title: name,
    status: timedOut ? 'timeout' : 'error',
    ranAt: new Date().toISOString(),
    durationMs: Math.round(performance.now() - started),
    figures: [],
    details: {},
    notes: [timedOut ? `stopped at the ${capS} s cap without a result` : 'the scenario process died'],
  };
}

function machineInfo() {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model ?? 'unknown',
    cpus: cpus.length,
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadAverageAtStart: loadAtStart,
    sqlite: sqliteVersion(),
    postgres: process.env.DATABASE_URL ? 'see scenarios.postgres.details.serverVersion' : null,
  };
}

function sqliteVersion(): string | null {
  try {
    return execFileSync(
      process.execPath,
      [
        '-e',
        "console.log(new (require('node:sqlite').DatabaseSync)(':memory:').prepare('select sqlite_version() v').get().v)",
      ],
      { encoding: 'utf8' },
    ).trim();
  } catch {
    return null;
  }
}

/** The commit, and a hash of src/ as it was on disk (others may be editing it). */
function codeInfo() {
  let commit: string | null = null;
  try {
    commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repoRoot, encoding: 'utf8' }).trim();
  } catch {}
  const hash = createHash('sha256');
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts'))
        hash.update(path.relative(repoRoot, full)).update(readFileSync(full));
    }
  };
  walk(path.join(repoRoot, 'src'));
  return { commit, srcSha256: hash.digest('hex').slice(0, 16) };
}

/** A partial run (`npm run bench -- limits`) replaces its scenarios in the previous report and keeps the rest. */
function mergeWithPrevious(report: Record<string, unknown> & { scenarios: ScenarioResult[] }) {
  if (positionals.length === 0 || !existsSync(outFile)) return { ...report, partial: false };
  try {
    const previous = JSON.parse(readFileSync(outFile, 'utf8')) as { scenarios: ScenarioResult[] };
    const order = Object.keys(scenarios);
    const merged = [
      ...previous.scenarios.filter((old) => !report.scenarios.some((now) => now.scenario === old.scenario)),
      ...report.scenarios,
    ].sort((a, b) => order.indexOf(a.scenario) - order.indexOf(b.scenario));
    return {
      ...report,
      partial: true,
      rerun: selected,
      scenarios: merged,
      markdownTable: markdownTable(tableHeader, tableRows(merged)),
    };
  } catch {
    return { ...report, partial: false };
  }
}
