import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { repoRoot } from './support/processes.ts';

const run = promisify(execFile);
const bin = (name: string) => path.join(repoRoot, 'node_modules', '.bin', name);
const fixture = path.join(repoRoot, 'test', 'fixtures', 'architecture');

/** The rules broken by a dependency-cruiser run in `cwd` over its src/, by rule name. */
async function breaches(cwd: string): Promise<Map<string, string[]>> {
  const { stdout } = await run(
    bin('depcruise'),
    ['src', '--config', path.join(repoRoot, '.dependency-cruiser.mjs'), '--output-type', 'json'],
    { cwd, maxBuffer: 64 * 1024 * 1024 },
  ).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }));
  const result = JSON.parse(stdout) as {
    summary: { violations: Array<{ rule: { name: string }; from: string }> };
  };
  const found = new Map<string, string[]>();
  for (const violation of result.summary.violations) {
    found.set(violation.rule.name, [...(found.get(violation.rule.name) ?? []), violation.from]);
  }
  return found;
}

/** Biome's diagnostics for these files, linted as if they stood at their paths in this repository. */
async function biomeFindings(files: Record<string, string>): Promise<Array<{ rule: string; file: string }>> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bulkchange-lint-'));
  try {
    cpSync(path.join(repoRoot, 'biome.json'), path.join(dir, 'biome.json'));
    cpSync(path.join(repoRoot, 'lint'), path.join(dir, 'lint'), { recursive: true });
    for (const [file, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      writeFileSync(path.join(dir, file), text);
    }
    const { stdout } = await run(bin('biome'), ['lint', '--reporter=json', '.'], { cwd: dir }).catch(
      (error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }),
    );
    const report = JSON.parse(stdout) as {
      diagnostics: Array<{ category: string; location: { path: string } }>;
    };
    return report.diagnostics.map((diagnostic) => ({
      rule: diagnostic.category,
      file: diagnostic.location.path,
    }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('the floor plan of src/ (docs/architecture.md)', () => {
  it('holds today: no room imports a room above it, and no module imports itself back', async () => {
    assert.deepEqual([...(await breaches(repoRoot)).entries()], []);
  });

  it('fails each kind of breach, shown on a fixture that commits every one', async () => {
    const found = await breaches(fixture);
    assert.deepEqual(found.get('core-is-the-ground'), ['src/core/breach.ts']);
    assert.deepEqual(found.get('floor:core'), ['src/core/breach.ts']);
    assert.deepEqual(found.get('queue-knows-no-domain'), ['src/queue/breach.ts']);
    assert.deepEqual(found.get('simulators-only-in-the-demo'), ['src/engine/uses-simulator.ts']);
    assert.deepEqual(found.get('carriers-stay-apart'), ['src/carriers/pond/flows.ts']);
    assert.deepEqual(found.get('floor:accounts'), ['src/accounts/breach.ts']);
    assert.ok(found.get('no-cycles')?.includes('src/devices/a.ts'), 'a cycle of two modules is found');
  });

  it('keeps SQL in repositories and process.env in config.ts', async () => {
    const sql =
      "export const rows = (db: { selectFrom(table: string): unknown }) => db.selectFrom('devices');\n";
    const env = 'export const port = process.env.PORT;\n';
    const findings = await biomeFindings({
      'src/engine/raw-sql.ts': sql,
      'src/engine/devices-repository.ts': sql,
      'src/db/ping.ts': sql,
      'src/engine/reads-env.ts': env,
      'src/config.ts': env,
    });
    assert.deepEqual(findings.map((finding) => `${finding.rule} ${finding.file}`).sort(), [
      'lint/style/noProcessEnv src/engine/reads-env.ts',
      'plugin src/engine/raw-sql.ts',
    ]);
  });

  it('documents every error code of the catalogue, and nothing else', async () => {
    const { errorCatalogue } = await import('../src/core/errors.ts');
    const documented = new Set(
      [
        ...readFileSync(path.join(repoRoot, 'docs', 'errors.md'), 'utf8').matchAll(
          /^\| `([A-Z][A-Z0-9_]+)`/gm,
        ),
      ].map((match) => match[1]),
    );
    const catalogued = new Set(Object.keys(errorCatalogue));
    assert.deepEqual(
      [...catalogued].filter((code) => !documented.has(code)),
      [],
      'in the catalogue, not documented',
    );
    assert.deepEqual(
      [...documented].filter((code) => !catalogued.has(code)),
      [],
      'documented, not in the catalogue',
    );
  });
});
