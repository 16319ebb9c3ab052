import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * `file:line` of the first line of `file` (relative to the repository) containing `needle`, as the code
 * is at run time (others edit src/ while the bench runs). Without a match, the file alone.
 */
export function codeRef(file: string, needle: string): string {
  try {
    const lines = readFileSync(path.join(repoRoot, file), 'utf8').split('\n');
    const index = lines.findIndex((line) => line.includes(needle));
    return index >= 0 ? `${file}:${index + 1}` : file;
  } catch {
    return file;
  }
}
