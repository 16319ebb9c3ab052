import type { Executor } from '../db/database.ts';
import { type Notifications, notify } from '../db/notifications.ts';

/** The channel enqueues are announced on; the payload is empty (the database says what is due). */
const QUEUE_CHANNEL = 'bulkchange_queue';

/**
 * The queue's doorbell: whoever enqueues rings it, and workers wake at once instead of waiting for
 * their next poll.
 *
 * - In this process: `notify()` after the transaction commits (ringing early only costs an empty poll).
 * - Across processes, where the database has `LISTEN` / `NOTIFY`: `announce(executor)` in the
 *   enqueueing transaction sends a notification PostgreSQL delivers when it commits (and never if it
 *   rolls back), and every process with a subscribed worker rings its own bell on hearing it. A job
 *   enqueued by an API process or a callback is picked up by a worker elsewhere at once.
 *
 * Without the database's help, workers in other processes find the job on their next poll.
 */
export class QueueNotifier {
  readonly #listeners = new Set<() => void>();
  readonly #notifications: Notifications | null;
  #listening: (() => void) | undefined;

  constructor(notifications: Notifications | null = null) {
    this.#notifications = notifications;
  }

  /** Tells workers of every process, when `executor`'s transaction commits. A no-op without `NOTIFY`. */
  async announce(executor: Executor): Promise<void> {
    if (this.#notifications) await notify(executor, QUEUE_CHANNEL);
  }

  /** Wakes every subscribed worker of this process. Never throws. */
  notify(): void {
    for (const listener of this.#listeners) {
      try {
        listener();
      } catch {
        // A listener's failure is its own business; the others still get woken.
      }
    }
  }

  /** Returns the function that unsubscribes. The first subscriber starts listening to other processes. */
  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    // A reconnection (null payload) may have missed announcements: waking costs one poll.
    this.#listening ??= this.#notifications?.subscribe(QUEUE_CHANNEL, () => this.notify());
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) {
        this.#listening?.();
        this.#listening = undefined;
      }
    };
  }

  get listenerCount(): number {
    return this.#listeners.size;
  }

  /** Whether announcements from other processes can reach this one's workers (readiness). */
  get hearing(): boolean {
    return this.#notifications === null || this.#listening === undefined || this.#notifications.connected;
  }
}
