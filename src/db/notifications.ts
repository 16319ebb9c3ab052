import { type Kysely, sql } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.ts';

/** A listener's view of a channel: each payload, and `null` after a reconnection (anything may have been missed). */
export type NotificationListener = (payload: string | null) => void;

export interface Notifications {
  /** Listens on `channel` (a lower-case identifier); returns the function that stops. */
  subscribe(channel: string, listener: NotificationListener): () => void;
  /** Whether the listening connection is up (readiness). */
  readonly connected: boolean;
  /** Told when the listening connection drops (it is opened again by itself). */
  onError(handler: (error: unknown) => void): void;
  close(): Promise<void>;
}

/** Reconnection backoff: from this, doubling, up to the cap. */
const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 10_000;
/** A connection that answers nothing this long is dropped and opened again. */
const PING_EVERY_MS = 15_000;

/**
 * Sends `payload` on `channel` in the executor's transaction: PostgreSQL delivers it when that commits,
 * and not at all if it rolls back.
 */
export async function notify(executor: Kysely<Database>, channel: string, payload = ''): Promise<void> {
  await sql`select pg_notify(${channel}, ${payload})`.execute(executor);
}

const identifier = /^[a-z_][a-z0-9_]*$/;

/**
 * `LISTEN` on a dedicated connection (not one of the pool's: a pooled connection is handed to others
 * between queries). Opened on the first subscription; when it drops it is opened again with backoff,
 * and every listener hears `null`, since notifications sent meanwhile are lost.
 */
export class PostgresNotifications implements Notifications {
  readonly #connectionString: string;
  #onError: (error: unknown) => void = () => {};
  readonly #listeners = new Map<string, Set<NotificationListener>>();
  #client: pg.Client | undefined;
  #connected = false;
  #closed = false;
  #connecting: Promise<void> | undefined;
  #retryMs = RECONNECT_MIN_MS;
  #retryTimer: NodeJS.Timeout | undefined;
  #pingTimer: NodeJS.Timeout | undefined;

  constructor(connectionString: string) {
    this.#connectionString = connectionString;
  }

  onError(handler: (error: unknown) => void): void {
    this.#onError = handler;
  }

  get connected(): boolean {
    return this.#connected;
  }

  subscribe(channel: string, listener: NotificationListener): () => void {
    if (!identifier.test(channel)) throw new RangeError(`not a channel name: ${channel}`);
    let listeners = this.#listeners.get(channel);
    if (!listeners) {
      listeners = new Set();
      this.#listeners.set(channel, listeners);
      const client = this.#client;
      if (client && this.#connected) client.query(`LISTEN ${channel}`).catch((error) => this.#drop(error));
    }
    listeners.add(listener);
    this.#connect();
    return () => {
      listeners.delete(listener);
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    clearInterval(this.#pingTimer);
    await this.#connecting?.catch(() => {});
    const client = this.#client;
    this.#client = undefined;
    this.#connected = false;
    await client?.end().catch(() => {});
  }

  #connect(): void {
    if (this.#closed || this.#client || this.#connecting) return;
    this.#connecting = this.#open().finally(() => {
      this.#connecting = undefined;
    });
  }

  async #open(): Promise<void> {
    const client = new pg.Client({ connectionString: this.#connectionString, keepAlive: true });
    client.on('notification', (message) => this.#deliver(message.channel, message.payload ?? ''));
    client.on('error', (error) => this.#drop(error));
    client.on('end', () => this.#drop(new Error('the listening connection ended')));
    this.#client = client;
    try {
      await client.connect();
      for (const channel of this.#listeners.keys()) await client.query(`LISTEN ${channel}`);
    } catch (error) {
      this.#drop(error);
      return;
    }
    if (this.#client !== client) return;
    this.#connected = true;
    this.#retryMs = RECONNECT_MIN_MS;
    this.#pingTimer = setInterval(() => {
      client.query('select 1').catch((error) => this.#drop(error));
    }, PING_EVERY_MS);
    this.#pingTimer.unref();
    // Anything sent before we listened (or while we were away) was missed: listeners look again.
    for (const channel of this.#listeners.keys()) this.#deliver(channel, null);
  }

  #deliver(channel: string, payload: string | null): void {
    for (const listener of this.#listeners.get(channel) ?? []) {
      try {
        listener(payload);
      } catch (error) {
        this.#onError(error);
      }
    }
  }

  #drop(error: unknown): void {
    const client = this.#client;
    if (!client) return;
    this.#client = undefined;
    this.#connected = false;
    clearInterval(this.#pingTimer);
    client.removeAllListeners('end');
    client.on('error', () => {}); // the connection may still report its end
    client.end().catch(() => {});
    if (this.#closed) return;
    this.#onError(error);
    const wait = this.#retryMs;
    this.#retryMs = Math.min(RECONNECT_MAX_MS, this.#retryMs * 2);
    this.#retryTimer = setTimeout(() => this.#connect(), wait);
    this.#retryTimer.unref();
  }
}
