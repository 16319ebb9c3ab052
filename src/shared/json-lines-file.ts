import { mkdirSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import path from 'node:path';

/**
 * A JSON-lines file written a batch at a time, created new (never overwriting) and readable by its
 * owner only; `close` flushes it to disk before anything is removed on the strength of it.
 */
export class JsonLinesFile {
  readonly path: string;
  #handle: FileHandle | undefined;
  #lines = 0;

  constructor(file: string) {
    this.path = file;
  }

  get lines(): number {
    return this.#lines;
  }

  async write(records: readonly unknown[]): Promise<void> {
    if (records.length === 0) return;
    if (!this.#handle) {
      mkdirSync(path.dirname(this.path), { recursive: true, mode: 0o700 });
      this.#handle = await open(this.path, 'wx', 0o600);
    }
    await this.#handle.write(records.map((record) => `${JSON.stringify(record)}\n`).join(''));
    this.#lines += records.length;
  }

  async close(): Promise<void> {
    if (!this.#handle) return;
    await this.#handle.sync();
    await this.#handle.close();
    this.#handle = undefined;
  }
}
