import { chmodSync, closeSync, existsSync, mkdirSync, openSync, writeFileSync } from 'node:fs';

/**
 * Files that hold data or secrets (the SQLite database, the encryption key, the demo's API key) are
 * readable and writable by their owner only, whatever the umask; directories made for them too.
 */
const OWNER_ONLY = 0o600;
const OWNER_ONLY_DIRECTORY = 0o700;

/** Makes the directory (and its parents) when missing, owner-only; an existing one is left as it is. */
export function ensurePrivateDirectory(directory: string): void {
  mkdirSync(directory, { recursive: true, mode: OWNER_ONLY_DIRECTORY });
}

/** Creates the file empty when missing, and makes it owner-only either way. */
export function ensurePrivateFile(file: string): void {
  closeSync(openSync(file, 'a', OWNER_ONLY));
  chmodSync(file, OWNER_ONLY);
}

/** Makes an existing file owner-only (one an older version created with the umask's mode). */
export function restrictIfPresent(file: string): void {
  if (existsSync(file)) chmodSync(file, OWNER_ONLY);
}

/** Writes the file (created owner-only, or made so). `exclusive` fails when it already exists. */
export function writePrivateFile(file: string, content: string, options: { exclusive?: boolean } = {}): void {
  writeFileSync(file, content, { mode: OWNER_ONLY, flag: options.exclusive ? 'wx' : 'w' });
  chmodSync(file, OWNER_ONLY);
}
