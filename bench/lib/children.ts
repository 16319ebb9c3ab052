import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { onCleanup } from './stack.ts';

const benchDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface ChildResult<T> {
  result: T;
  pid: number;
  elapsedMs: number;
}

/**
 * Runs `node bench/lib/<script> <args>` in a fresh process and parses the JSON line it prints last;
 * killed at `timeoutMs` (the run then fails).
 */
export function runBenchChild<T>(script: string, args: string[], timeoutMs: number): Promise<ChildResult<T>> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(benchDir, 'lib', script), ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const kill = async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    };
    onCleanup(kill);
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    const timer = setTimeout(() => {
      void kill();
    }, timeoutMs);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const last = stdout.trim().split('\n').pop() ?? '';
      if (code !== 0) {
        reject(
          new Error(
            `${script} ended with ${code ?? signal} after ${Math.round(performance.now() - started)} ms`,
          ),
        );
        return;
      }
      try {
        resolve({ result: JSON.parse(last) as T, pid: child.pid!, elapsedMs: performance.now() - started });
      } catch {
        reject(new Error(`${script} printed no result: ${stdout.slice(-500)}`));
      }
    });
  });
}
