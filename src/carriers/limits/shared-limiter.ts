import type { Db } from '../../db/database.ts';
import {
  type CallLimiter,
  DEFAULT_SAFETY_MARGIN,
  type LimiterLimits,
  latenessToleranceMs,
  nextDueAt,
  type SendMoment,
  spacingMs,
  validateLimits,
} from './call-limiter.ts';
import { leaveLine, pause, releaseSlots, releaseTurn, takeLimiterTurn } from './guards-repository.ts';
import { PRECISE_BELOW_MS, untilMoment } from './moment-timer.ts';

/** How long a concurrency slot holds without renewal: a dead worker's slot is free again after this. */
export const SLOT_LEASE_MS = 10_000;
/**
 * A request must leave within this long after its start, or it is not sent (its turn lapses). Long
 * enough for a call that waits for a second limiter while holding this one's turn (ThingSpace's
 * activate requests); a process that dies holding a turn holds the key up this long at most.
 */
const TURN_MS = 10_000;
/** Kept between the turn's end as this process sees it and the last moment it sends. */
const TURN_END_MARGIN_MS = 100;
/** A process waiting on a key looks again at least this often (so others see it is still waiting). */
const MAX_POLL_MS = 1_000;
const LIVE_WAITER_MS = 3 * MAX_POLL_MS;
/**
 * How long a process takes turns on end while others wait: within a stint its requests are spaced on
 * its own clock; a handover to another process costs a round trip. Also the longest another process
 * waits for its turn because of it.
 */
const STINT_MS = 250;
/** After a database error, the next try waits this long. */
const ERROR_PAUSE_MS = 250;
/** Without a rate limit, one round trip starts at most this many waiting requests (ADR 0061). */
const MAX_SLOTS_PER_TAKE = 32;

/** Keeps the slots of this process's running requests (one renewal for all of them). */
export interface SlotKeeper {
  held(): void;
  released(): void;
}

interface Waiter {
  queuedAt: number;
  start: (grant: Grant) => void;
  fail: (error: unknown) => void;
}

interface Grant {
  slot: number | null;
  turn: boolean;
  /** performance.now() before which the request must not leave (it is due then), and after which it must not either. */
  notBefore: number;
  deadline: number;
}

export interface SharedLimiterDeps {
  db: Db;
  key: string;
  /** This process, as the guards tables name it. */
  holder: string;
  slots: SlotKeeper;
  onWait?: (ms: number) => void;
  onError: (error: unknown) => void;
}

/**
 * A carrier account's limiter shared by every process through PostgreSQL (ADR 0014): the same promise
 * as the in-process one — requests at least `1000 / requestsPerSecond × 1.02` ms apart between the
 * moments they leave, at most `maxConcurrent` in flight, no request during a `Retry-After` pause — kept
 * for the whole deployment.
 *
 * - Within the process, callers wait in one FIFO queue; only its head asks the database.
 * - The head takes, in one round trip (`guard_limiter_take`), a concurrency slot (leased, renewed while
 *   the request runs, free again if the process dies) and the send turn. Without a rate there is no
 *   turn, and the same round trip takes a slot for each caller waiting, up to 32 (ADR 0061). Waiting
 *   processes take turns: one keeps its place for a stint of 250 ms, then goes to the back of the line
 *   if it has more.
 * - The turn may be taken up to one spacing early; the process then waits until the start the database
 *   gave, mapped onto its own monotonic clock on the late side of the round trip. When the last request
 *   was its own, it spaces from that one's due moment and the moment it saw it leave instead (same
 *   clock: no round trip lost; a little lateness absorbed, ADR 0060). The request must leave before
 *   the turn ends, or it is stopped before its first byte ({@link SendMoment.sending}).
 * - When the request has left, the turn is handed back and stamped with the database's clock at that
 *   moment (after it left): the next request of another process leaves at least one spacing later.
 */
export class SharedLimiter implements CallLimiter {
  readonly #deps: SharedLimiterDeps;
  readonly #queue: Waiter[] = [];
  #limits: LimiterLimits;
  #pumping = false;
  /** Settles when the request let go last has handed its turn back. */
  #turnReturned: Promise<void> = Promise.resolve();
  /** The last request this process sent: the database's stamp of it, when it was due and when it left on our clock. */
  #ownLast: { stamp: number; dueAt: number; leftAt: number } | undefined;
  #wake: (() => void) | undefined;
  /** Slots to hand back, and whether a release is under way (the next one takes them all). */
  readonly #toFree: number[] = [];
  #freeing = false;

  constructor(limits: LimiterLimits, deps: SharedLimiterDeps) {
    validateLimits(limits);
    this.#limits = limits;
    this.#deps = deps;
  }

  get limits(): LimiterLimits {
    return this.#limits;
  }

  update(limits: LimiterLimits): void {
    validateLimits(limits);
    this.#limits = limits;
    this.notified();
  }

  /** Another process released something on this key (or the listener reconnected): look again now. */
  notified(): void {
    this.#wake?.();
  }

  schedule<T>(fn: (moment: SendMoment) => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        const index = this.#queue.indexOf(waiter);
        if (index < 0) return;
        this.#queue.splice(index, 1);
        reject(signal?.reason);
        this.notified();
      };
      const waiter: Waiter = {
        queuedAt: performance.now(),
        fail: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
        start: (grant) => {
          signal?.removeEventListener('abort', onAbort);
          this.#deps.onWait?.(performance.now() - waiter.queuedAt);
          this.#run(fn, grant).then(resolve, reject);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#queue.push(waiter);
      void this.#pump();
    });
  }

  pauseFor(ms: number): void {
    if (!(ms > 0)) return;
    pause(this.#deps.db, this.#deps.key, Math.min(ms, 2_147_000_000)).catch(this.#deps.onError);
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#queue.length > 0) {
        // The request let go last must have left first: the spacing counts from that moment.
        await this.#turnReturned;
        const head = this.#queue[0];
        if (!head) break;
        const intervalMs = spacingMs(this.#limits.requestsPerSecond, DEFAULT_SAFETY_MARGIN);
        // With a rate, a take is one request's send turn; without one, a slot for each caller waiting.
        const turn = intervalMs > 0;
        const maxConcurrent = Number.isFinite(this.#limits.maxConcurrent) ? this.#limits.maxConcurrent : null;
        const asked = performance.now();
        let result: Awaited<ReturnType<typeof takeLimiterTurn>>;
        try {
          result = await takeLimiterTurn(this.#deps.db, {
            key: this.#deps.key,
            holder: this.#deps.holder,
            maxConcurrent,
            intervalMs,
            lookaheadMs: Math.min(intervalMs, MAX_POLL_MS),
            turnMs: TURN_MS,
            slotLeaseMs: SLOT_LEASE_MS,
            liveWaiterMs: LIVE_WAITER_MS,
            more: this.#queue.length > 1,
            stintMs: STINT_MS,
            count: turn ? 1 : Math.min(this.#queue.length, MAX_SLOTS_PER_TAKE),
          });
        } catch (error) {
          // The database is unreachable: this call fails (the engine retries the row later).
          this.#deps.onError(error);
          if (this.#queue[0] === head) {
            this.#queue.shift();
            head.fail(error);
          }
          await this.#sleep(ERROR_PAUSE_MS);
          continue;
        }
        const answered = performance.now();
        if (!result.taken) {
          await this.#sleep(Math.min(Math.max(result.waitMs ?? MAX_POLL_MS, 1), MAX_POLL_MS));
          continue;
        }
        // The last request was ours, and no pause pushed the start: the spacing counts from its moments,
        // on our own clock (exact, no round trip in it). Otherwise from the database's start, mapped
        // onto our clock on the late side of the round trip (its clock was read somewhere between
        // `asked` and `answered`); the deadline on the early side.
        const own = this.#ownLast;
        const fromOwn =
          own !== undefined &&
          result.lastSender === this.#deps.holder &&
          result.lastSentAt === own.stamp &&
          result.startAt <= Math.max(result.lastSentAt + intervalMs, result.nowAt);
        const notBefore = fromOwn
          ? nextDueAt(
              own.dueAt,
              own.leftAt,
              intervalMs,
              latenessToleranceMs(intervalMs, DEFAULT_SAFETY_MARGIN),
            )
          : answered + (result.startAt - result.nowAt);
        const deadline = asked + (result.startAt + TURN_MS - result.nowAt) - TURN_END_MARGIN_MS;
        if (turn && this.#queue[0] !== head) {
          // Aborted while we asked: hand the turn and the slot back unused.
          releaseTurn(this.#deps.db, this.#deps.key, this.#deps.holder).catch(this.#deps.onError);
          for (const slot of result.slots) if (slot !== null) this.#freeSlot(slot);
          continue;
        }
        // Each slot goes to the next caller in line; one whose caller gave up while we asked goes back.
        const starting = this.#queue.splice(0, result.slots.length);
        for (const slot of result.slots.slice(starting.length)) if (slot !== null) this.#freeSlot(slot);
        await untilMoment(notBefore, turn && intervalMs < PRECISE_BELOW_MS);
        starting.forEach((waiter, index) => {
          waiter.start({ slot: result.slots[index], turn, notBefore, deadline });
        });
      }
    } finally {
      this.#pumping = false;
    }
    if (this.#queue.length === 0) {
      // Our place in the line is kept by the last take only while more of ours wait.
      leaveLine(this.#deps.db, this.#deps.key, this.#deps.holder).catch(this.#deps.onError);
    }
  }

  async #run<T>(fn: (moment: SendMoment) => Promise<T>, grant: Grant): Promise<T> {
    let left = false;
    let returned: () => void = () => {};
    if (grant.turn) {
      this.#turnReturned = new Promise<void>((resolve) => {
        returned = resolve;
      });
    }
    const leave = () => {
      if (left) return;
      left = true;
      if (!grant.turn) return;
      const leftAt = performance.now();
      releaseTurn(this.#deps.db, this.#deps.key, this.#deps.holder)
        .then((stamp) => {
          this.#ownLast = stamp === undefined ? undefined : { stamp, dueAt: grant.notBefore, leftAt };
        })
        .catch(this.#deps.onError) // its turn then runs out on its own
        .finally(returned);
    };
    if (grant.slot !== null) this.#deps.slots.held();
    try {
      return await fn({
        // Past the turn's end another process may already be sending: this request must not go.
        sending: () => !grant.turn || performance.now() < grant.deadline,
        sent: leave,
      });
    } finally {
      leave();
      if (grant.slot !== null) {
        this.#deps.slots.released();
        this.#freeSlot(grant.slot);
      }
    }
  }

  /**
   * Hands a slot back: at once when no release is under way, else with the others that end meanwhile,
   * in the next round trip (ADR 0061: one per request would bound a quick account on PostgreSQL).
   */
  #freeSlot(slot: number): void {
    this.#toFree.push(slot);
    if (!this.#freeing) void this.#releaseFreed();
  }

  async #releaseFreed(): Promise<void> {
    this.#freeing = true;
    try {
      while (this.#toFree.length > 0) {
        const slots = this.#toFree.splice(0);
        // On failure the slots' leases run out on their own (SLOT_LEASE_MS).
        await releaseSlots(this.#deps.db, this.#deps.key, slots, this.#deps.holder).catch(this.#deps.onError);
      }
    } finally {
      this.#freeing = false;
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        if (this.#wake === done) this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake = done;
    });
  }
}
