/** Epoch milliseconds; the simulator's idea of "now" (token and session expiry, daily rules, delays). */
export type WallClock = () => number;

interface Task {
  dueAt: number;
  seq: number;
  run: () => void | Promise<void>;
}

/** setTimeout cannot wait longer than this; a later task is simply re-armed. */
const maxTimerMs = 2_147_483_647;

/**
 * A simulator's background work (device results, activation steps, callback deliveries), due at clock times.
 * With `autoRun` a single unref'd timer runs each task when it falls due; without it (a test's manual
 * clock) nothing runs until `runDue()`. Tasks due at the same time run in the order they were scheduled.
 */
export class Scheduler {
  readonly #clock: WallClock;
  readonly #autoRun: boolean;
  #tasks: Task[] = [];
  #seq = 0;
  #timer: NodeJS.Timeout | undefined;
  #armedFor = Number.POSITIVE_INFINITY;
  readonly #running = new Set<Promise<void>>();

  constructor(clock: WallClock, autoRun: boolean) {
    this.#clock = clock;
    this.#autoRun = autoRun;
  }

  now(): number {
    return this.#clock();
  }

  /** Runs `run` once the clock reaches `dueAt` (at once on the next run if it already has). */
  at(dueAt: number, run: () => void | Promise<void>): void {
    this.#tasks.push({ dueAt, seq: this.#seq++, run });
    this.#armFor(dueAt);
  }

  after(delayMs: number, run: () => void | Promise<void>): void {
    this.at(this.#clock() + delayMs, run);
  }

  /**
   * Runs every task due by now, including those that due tasks schedule for now, and waits for them
   * (and for any task a timer started) to settle. Returns how many tasks it ran.
   */
  async runDue(): Promise<number> {
    let ran = 0;
    for (;;) {
      const due = this.#takeDue();
      if (due.length === 0) break;
      ran += due.length;
      for (const task of due) await this.#track(task);
    }
    await Promise.all([...this.#running]);
    return ran;
  }

  /** Scheduled and not yet started, plus running. */
  get pending(): number {
    return this.#tasks.length + this.#running.size;
  }

  /** Drops every task not yet started; running ones finish on their own. */
  clear(): void {
    this.#tasks = [];
    this.#disarm();
  }

  #takeDue(): Task[] {
    const now = this.#clock();
    const due = this.#tasks.filter((task) => task.dueAt <= now);
    if (due.length === 0) return due;
    this.#tasks = this.#tasks.filter((task) => task.dueAt > now);
    return due.sort((a, b) => a.dueAt - b.dueAt || a.seq - b.seq);
  }

  #track(task: Task): Promise<void> {
    const running = (async () => {
      try {
        await task.run();
      } catch {
        // A task reports its own failures (e.g. in the callback log); one bad task must not stop the rest.
      }
    })();
    this.#running.add(running);
    return running.finally(() => this.#running.delete(running));
  }

  /** After tasks were taken: the timer for the earliest one left. */
  #arm(): void {
    let next = Number.POSITIVE_INFINITY;
    for (const task of this.#tasks) if (task.dueAt < next) next = task.dueAt;
    this.#armFor(next);
  }

  /** O(1) per new task: only an earlier task than the armed one moves the timer. */
  #armFor(next: number): void {
    if (!this.#autoRun || next === Number.POSITIVE_INFINITY) return;
    if (this.#timer !== undefined && next >= this.#armedFor) return;
    this.#disarm();
    this.#armedFor = next;
    const delay = Math.min(maxTimerMs, Math.max(0, next - this.#clock()));
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#armedFor = Number.POSITIVE_INFINITY;
      void this.#fire();
    }, delay);
    this.#timer.unref();
  }

  async #fire(): Promise<void> {
    const due = this.#takeDue();
    this.#arm();
    for (const task of due) await this.#track(task);
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedFor = Number.POSITIVE_INFINITY;
  }
}
