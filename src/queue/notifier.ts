/**
 * An in-process doorbell: whoever commits an enqueue rings it, local workers wake up at once instead
 * of waiting for their next poll. Ring it after the transaction commits (ringing early only causes an
 * empty poll). Workers in other processes still find the job by polling.
 */
export class QueueNotifier {
  readonly #listeners = new Set<() => void>();

  /** Wakes every subscribed worker. Never throws. */
  notify(): void {
    for (const listener of this.#listeners) {
      try {
        listener();
      } catch {
        // A listener's failure is its own business; the others still get woken.
      }
    }
  }

  /** Returns the function that unsubscribes. */
  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  get listenerCount(): number {
    return this.#listeners.size;
  }
}
