import type { Executor } from '../db/database.ts';
import { auditRepository, type NewAuditEntry } from './audit-repository.ts';

/**
 * Audit entries of a burst of calls, written a batch at a time instead of one statement each: when
 * `maxEntries` are waiting or `maxDelayMs` after the first of them, and whatever is left in the
 * transaction that commits the calls' outcomes. A worker that dies loses at most the entries of its
 * last `maxDelayMs`; the rows they belong to are then read back at the carrier, and that read is audited.
 */
export class AuditBuffer {
  readonly #db: Executor;
  readonly #maxEntries: number;
  readonly #maxDelayMs: number;
  readonly #onError: (error: unknown, entries: NewAuditEntry[]) => void;
  #pending: NewAuditEntry[] = [];
  #links: Array<{ auditEntryId: number; rowId: string }> = [];
  #timer: NodeJS.Timeout | undefined;
  #writes: Array<Promise<void>> = [];

  constructor(
    db: Executor,
    options: {
      maxEntries: number;
      maxDelayMs: number;
      /** A failed write is reported, never thrown at the carrier work it records. */
      onError: (error: unknown, entries: NewAuditEntry[]) => void;
    },
  ) {
    this.#db = db;
    this.#maxEntries = options.maxEntries;
    this.#maxDelayMs = options.maxDelayMs;
    this.#onError = options.onError;
  }

  add(entry: NewAuditEntry): void {
    this.#pending.push(entry);
    if (this.#pending.length >= this.#maxEntries) this.#flush();
    else this.#timer ??= setTimeout(() => this.#flush(), this.#maxDelayMs);
  }

  /** Links an entry already written (a stored callback's) to a row, with the commit. */
  link(auditEntryId: number, rowId: string): void {
    this.#links.push({ auditEntryId, rowId });
  }

  /**
   * Waits for the batches already under way, each on a connection of its own; what is still pending
   * stays for `drainInto`. Called before the commit opens its transaction: a commit that took the bulk
   * change's lock and then waited for these writes could wait for ever when the pool's other connections
   * are held by commits of the same change queued behind that lock (several slots on PostgreSQL).
   */
  async settle(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await Promise.all(this.#writes);
  }

  /** Writes what is pending with `executor` (the commit's), after `settle`. */
  async drainInto(executor: Executor): Promise<void> {
    await this.settle();
    const rest = this.#take();
    const repository = auditRepository(executor);
    if (rest.length > 0) await repository.append(rest);
    await repository.link(this.#takeLinks());
  }

  /** Writes what is left on its own (when there is no commit to write it with). */
  async close(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#flush();
    const links = this.#takeLinks();
    if (links.length > 0)
      this.#writes.push(
        auditRepository(this.#db)
          .link(links)
          .catch((error) => this.#onError(error, [])),
      );
    await Promise.all(this.#writes);
  }

  #takeLinks() {
    const links = this.#links;
    this.#links = [];
    return links;
  }

  #take(): NewAuditEntry[] {
    const entries = this.#pending;
    this.#pending = [];
    return entries;
  }

  #flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const entries = this.#take();
    if (entries.length === 0) return;
    this.#writes.push(
      auditRepository(this.#db)
        .append(entries)
        .catch((error) => this.#onError(error, entries)),
    );
  }
}
