import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: children run `src/cli.ts` from here. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The environment every child starts from: this one, minus what would change its behaviour. */
function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined) continue;
    if (key.startsWith('NODE_TEST') || key === 'DATABASE_URL' || key.startsWith('BULKCHANGE_')) continue;
    env[key] = value;
  }
  return env;
}

export interface Child {
  process: ChildProcess;
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves with the exit code (or the signal name) once the process has ended. */
  exited: Promise<number | string>;
  readonly running: boolean;
  /** Waits until stdout matches, or fails at the deadline / when the process ends first. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Sends the signal and waits for the end (SIGKILL after `timeoutMs`). */
  kill(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | string>;
}

const children = new Set<Child>();

/** Kills every child still running (for `after` hooks; safe to call twice). */
export async function killAllChildren(): Promise<void> {
  await Promise.all([...children].map((child) => child.kill('SIGKILL')));
}

// The last resort: a test process that dies never leaves a server behind.
process.once('exit', () => {
  for (const child of children) if (child.running) child.process.kill('SIGKILL');
});

/** Runs `node src/cli.ts <args>` in the background; `options.nodeArgs` go to node (e.g. `--cpu-prof`). */
export function startCli(
  args: string[],
  env: Record<string, string> = {},
  options: { nodeArgs?: string[]; input?: string } = {},
): Child {
  const proc = spawn(process.execPath, [...(options.nodeArgs ?? []), 'src/cli.ts', ...args], {
    cwd: repoRoot,
    env: { ...baseEnv(), ...env },
    stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (options.input !== undefined) proc.stdin!.end(options.input);
  let stdout = '';
  let stderr = '';
  let running = true;
  const listeners = new Set<() => void>();
  proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    for (const listener of listeners) listener();
  });
  proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number | string>((resolve) => {
    proc.once('close', (code, signal) => {
      running = false;
      children.delete(child);
      for (const listener of listeners) listener();
      resolve(code ?? signal ?? 'unknown');
    });
  });
  const child: Child = {
    process: proc,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    get running() {
      return running;
    },
    exited,
    waitForOutput(pattern, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = stdout.match(pattern);
          if (match) done(() => resolve(match));
          else if (!running)
            done(() => reject(new Error(`process ended before printing ${pattern}:\n${stdout}\n${stderr}`)));
        };
        const timer = setTimeout(
          () => done(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms:\n${stdout}\n${stderr}`))),
          timeoutMs,
        );
        const done = (settle: () => void) => {
          clearTimeout(timer);
          listeners.delete(check);
          settle();
        };
        listeners.add(check);
        check();
      });
    },
    async kill(signal = 'SIGTERM', timeoutMs = 15_000) {
      if (!running) return exited;
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
  children.add(child);
  return child;
}

/** Runs `node src/cli.ts <args>` to its end (killed at the deadline). */
export async function runCli(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 20_000,
  input?: string,
): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const child = startCli(args, env, { input });
  const timer = setTimeout(() => child.process.kill('SIGKILL'), timeoutMs);
  const code = await child.exited;
  clearTimeout(timer);
  return { code, stdout: child.stdout, stderr: child.stderr };
}

/** A port nobody listens on right now (listen on 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A fresh temporary directory, removed by the returned function. */
export function tempDir(prefix = 'bulkchange-e2e-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns something other than undefined, or fails at the deadline. */
export async function waitUntil<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 20_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`, { cause: lastError });
    }
    await sleep(intervalMs);
  }
}

/** Waits until `GET <url>/healthz` answers 200 (or the child ends). */
export async function waitForHealthy(url: string, child?: Child, timeoutMs = 20_000): Promise<void> {
  await waitUntil(
    `${url}/healthz`,
    async () => {
      if (child && !child.running)
        throw new Error(`the server ended: ${await child.exited}\n${child.stdout}\n${child.stderr}`);
      const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) });
      return response.ok ? true : undefined;
    },
    timeoutMs,
  );
}

export interface HttpResponse<T> {
  status: number;
  body: T;
  text: string;
  headers: Headers;
}

/** A small API client for a server in another process. */
export function apiClient(baseUrl: string, key: string) {
  return async <T = Record<string, unknown>>(
    method: string,
    pathname: string,
    options: { body?: unknown; contentType?: string; key?: string | null } = {},
  ): Promise<HttpResponse<T>> => {
    const headers: Record<string, string> = {};
    const useKey = options.key === undefined ? key : options.key;
    if (useKey) headers.authorization = `Bearer ${useKey}`;
    let body: string | undefined;
    if (options.body !== undefined) {
      headers['content-type'] = options.contentType ?? 'application/json';
      body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    }
    const response = await fetch(baseUrl + pathname, {
      method,
      headers,
      body,
      signal: AbortSignal.timeout(15_000),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {}
    return { status: response.status, body: parsed as T, text, headers: response.headers };
  };
}

export type Api = ReturnType<typeof apiClient>;

/** Every item of a cursor-paged list. */
export async function listAll<T>(api: Api, pathname: string, limit = 1000): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 1000; page++) {
    const separator = pathname.includes('?') ? '&' : '?';
    const url: string = `${pathname}${separator}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const response = await api<{ items: T[]; nextCursor: string | null }>('GET', url);
    if (response.status !== 200) throw new Error(`GET ${url}: ${response.status} ${response.text}`);
    items.push(...response.body.items);
    cursor = response.body.nextCursor;
    if (!cursor) return items;
  }
  throw new Error(`${pathname}: more than 1000 pages`);
}

const terminal = ['completed', 'completed_with_errors', 'failed', 'cancelled'];

export interface BulkChangeView {
  id: string;
  status: string;
  counts: Record<string, number>;
}

/** Polls a bulk change until it has finished, or fails at the deadline. */
export async function waitForBulkChange(api: Api, id: string, timeoutMs = 40_000): Promise<BulkChangeView> {
  let last = '';
  try {
    return await waitUntil(
      `bulk change ${id} to finish`,
      async () => {
        const response = await api<BulkChangeView>('GET', `/api/v1/bulk-changes/${id}`);
        last = response.text;
        return terminal.includes(response.body.status) ? response.body : undefined;
      },
      timeoutMs,
      100,
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}; last seen: ${last}`, { cause: error });
  }
}

export interface SimCall {
  at: string;
  method: string;
  path: string;
  action: string;
  iccids: string[];
  status: number;
}

export interface SimLine {
  iccid: string;
  state: string;
  msisdn: string | null;
  ratePlan: string | null;
}

/** The simulator admin API (API §5) of a simulator at `url`. */
export function simAdmin(url: string) {
  const call = async <T>(method: string, pathname: string, body?: unknown): Promise<T> => {
    const response = await fetch(url + pathname, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${pathname}: ${response.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
  return {
    calls: (action?: string) => call<SimCall[]>('GET', `/_sim/calls${action ? `?action=${action}` : ''}`),
    /** The simulator's lines, as `SimLine` unless the carrier's own shape is given. */
    devices: <Line = SimLine>() => call<Line[]>('GET', '/_sim/devices'),
    seed: (lines: object[]) => call<{ created: number }>('POST', '/_sim/devices', lines),
    faults: () => call<Record<string, unknown>>('GET', '/_sim/faults'),
    setFaults: (faults: Record<string, unknown>) => call('PUT', '/_sim/faults', faults),
  };
}
