/** One carrier request as the simulator received and answered it (API.md §5 `GET /_sim/calls`). */
export interface CallEntry {
  /** When the request arrived (ISO-8601 UTC). */
  at: string;
  method: string;
  /** The request target as received: path and query string. */
  path: string;
  /** The carrier operation, e.g. `put_device`. */
  action: string;
  /** The lines the request named (path, query or body). */
  iccids: string[];
  /** The final HTTP status, including 429 / 5xx answers from injected faults. */
  status: number;
}

export interface CallFilter {
  iccid?: string;
  action?: string;
  status?: number;
}

/**
 * Memory-bounded: a ring of the last `capacity` entries. This log is also how tests count mutating
 * calls per line (no separate counters), so counts are exact while fewer than `capacity` calls were
 * made since the last `clear()`.
 */
export class CallLog {
  readonly capacity: number;
  #ring: CallEntry[] = [];
  #next = 0;

  constructor(capacity = 1_000_000) {
    this.capacity = capacity;
  }

  record(entry: CallEntry): void {
    if (this.#ring.length < this.capacity) this.#ring.push(entry);
    else this.#ring[this.#next] = entry;
    this.#next = (this.#next + 1) % this.capacity;
  }

  /** Oldest first. */
  query(filter: CallFilter = {}): CallEntry[] {
    return this.#ordered().filter(
      (entry) =>
        (filter.iccid === undefined || entry.iccids.includes(filter.iccid)) &&
        (filter.action === undefined || entry.action === filter.action) &&
        (filter.status === undefined || entry.status === filter.status),
    );
  }

  count(filter: CallFilter = {}): number {
    return this.query(filter).length;
  }

  clear(): void {
    this.#ring = [];
    this.#next = 0;
  }

  #ordered(): CallEntry[] {
    if (this.#ring.length < this.capacity) return this.#ring;
    return [...this.#ring.slice(this.#next), ...this.#ring.slice(0, this.#next)];
  }
}
