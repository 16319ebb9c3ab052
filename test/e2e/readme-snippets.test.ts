import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { demoServer, type RunningDemo } from '../support/demo-server.ts';
import { type BulkChangeView, freePort, repoRoot, runCli, tempDir } from '../support/processes.ts';

/**
 * README shell snippets this test does not run, each matched by a line of it, with the reason. Every
 * other snippet runs; an entry that matches no snippet, or a snippet in neither list, fails the test.
 */
const notRun: Array<[RegExp, string]> = [
  [/^npm install && npm start/m, 'installs, and starts the demo: the test starts the same `serve --demo`'],
  [/inventory-sync/, 'asks a real carrier (restapi1.jasper.com) for its lines'],
  [/^export DATABASE_URL=/m, 'a deployment: PostgreSQL at db.internal and servers that run until stopped'],
  [
    /^npx bulkchange cancel/m,
    'needs a running bulk change and one with failed rows (test/e2e/cli-submit.test.ts)',
  ],
  [/^npm run lint/m, 'the development tools, not the product'],
];

/** The README's `sh` blocks, in order, indented ones (in list items) included, dedented. */
function shellSnippets(markdown: string): string[] {
  return [...markdown.matchAll(/^( *)```sh\n([\s\S]*?)^\1```$/gm)].map(([, indent, body]) =>
    body
      .split('\n')
      .map((line) => line.slice(indent.length))
      .join('\n'),
  );
}

/** Runs `script` with bash in the repository, as a reader would paste it. */
function runBash(script: string, env: Record<string, string>, timeoutMs: number) {
  return new Promise<{ code: number | string; stdout: string; stderr: string }>((resolve) => {
    const child = spawn('bash', ['-c', script], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal ?? 'unknown', stdout, stderr });
    });
  });
}

/**
 * Issue 18's "done when": every README snippet runs unchanged with `PORT` and `BULKCHANGE_DATA_DIR`
 * set to other values, against the demo started with them; and `submit --wait` follows the linked
 * follow-up a new service starts.
 */
describe('the README, against a demo on another port and data dir', async () => {
  const port = await freePort();
  const serveDemo = demoServer('bulkchange-readme-', { PORT: String(port) });
  let demo: RunningDemo;

  it('runs every README shell snippet in order, as written', async () => {
    demo = await serveDemo.start();
    assert.equal(new URL(demo.demo.baseUrl).port, String(port));
    const snippets = shellSnippets(readFileSync(path.join(repoRoot, 'README.md'), 'utf8'));
    for (const [pattern] of notRun) {
      assert.equal(
        snippets.filter((snippet) => pattern.test(snippet)).length,
        1,
        `${pattern} names one snippet`,
      );
    }
    const run = snippets.filter((snippet) => !notRun.some(([pattern]) => pattern.test(snippet)));
    assert.ok(run.length >= 5, `${run.length} snippets run`);
    // A failing command stops the script; an HTTP error fails curl, as it fails the reader.
    const script = [
      'set -e',
      'curl() { command curl --fail-with-body "$@"; }',
      ...run.map((snippet, index) => `echo '@@ snippet ${index + 1} @@'\n${snippet}`),
      "echo '@@ end @@'",
    ].join('\n');
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(process.env)) {
      if (value !== undefined && !key.startsWith('NODE_TEST') && !key.startsWith('BULKCHANGE_'))
        env[key] = value;
    }
    const result = await runBash(
      script,
      {
        ...env,
        PATH: `${path.join(repoRoot, 'node_modules/.bin')}:${process.env.PATH}`,
        PORT: String(port),
        BULKCHANGE_DATA_DIR: demo.dataDir,
        LOG_LEVEL: 'warn',
      },
      240_000,
    );
    const reached = [...result.stdout.matchAll(/^@@ snippet (\d+) @@$/gm)].at(-1)?.[1];
    assert.equal(
      result.code,
      0,
      `snippet ${reached} of ${run.length} failed:\n${run[Number(reached) - 1]}\n--- stdout\n${result.stdout.slice(-3000)}\n--- stderr\n${result.stderr.slice(-3000)}`,
    );
    assert.match(result.stdout, /@@ end @@/);
    assert.match(result.stdout, /"status":"queued".*"total":2000/, 'the ThingSpace example was created');
    assert.match(result.stdout, /^event: done$/m, 'its event stream ran to the end');
    assert.match(result.stdout, /Dry run: 500 rows; 500 would succeed, 0 would fail\./);
    assert.match(result.stdout, /completed: 50 succeeded, 0 failed, 0 cancelled of 50/);
    assert.match(result.stdout, /^ID +CREATED +TYPE +CARRIER +STATUS/m);
  });

  it('submit --wait follows the customer assignment a new service starts, and ends after it', async () => {
    demo ??= await serveDemo.start();
    const files = tempDir('bulkchange-readme-files-');
    try {
      const lines = readFileSync(path.join(repoRoot, 'examples/telegence-activate.csv'), 'utf8').split('\n');
      const file = path.join(files.dir, 'new-service.csv');
      // Row 14 is a SIM the simulator refuses (lost): its line never exists, so its assignment is not done.
      writeFileSync(file, `${lines.slice(0, 21).join('\n')}\n`);
      const result = await runCli(
        ['submit', file, '--account', 'AT&T Telegence (demo)', '--type', 'activate_new_service', '--wait'],
        { BULKCHANGE_DATA_DIR: demo.dataDir, LOG_LEVEL: 'warn' },
        180_000,
      );
      assert.equal(result.code, 3, `${result.stdout}\n${result.stderr}`);
      const [, first] = result.stdout.match(/^Bulk change (\S+): queued, 20 rows/m) ?? [];
      assert.match(
        result.stdout,
        new RegExp(`^Bulk change ${first} completed_with_errors: 19 succeeded, 1 failed`, 'm'),
      );
      assert.match(result.stdout, /^14 +\d+ +ACTIVATION_REJECTED +/m);
      const [, followUp] =
        result.stdout.match(
          new RegExp(
            `^Follow-up: bulk change (\\S+) \\(customer_assignment, 20 rows\\), started by ${first} when it finished$`,
            'm',
          ),
        ) ?? [];
      assert.ok(followUp, result.stdout);
      assert.match(
        result.stdout,
        new RegExp(
          `^Bulk change ${followUp} completed_with_errors: 19 succeeded, 1 failed, 0 cancelled of 20\\n1 rows not done: `,
          'm',
        ),
      );
      const after = await demo.api<BulkChangeView>('GET', `/api/v1/bulk-changes/${followUp}`);
      assert.equal(after.body.status, 'completed_with_errors', 'the command ended after the follow-up');
    } finally {
      files.remove();
    }
  });
});
