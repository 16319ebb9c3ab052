import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { createTestDatabase, type TestDatabase } from '../../../test/support/databases.ts';
import { CarrierError } from '../../core/carrier-error.ts';
import { type CallLimiter, DEFAULT_SAFETY_MARGIN, latenessToleranceMs, spacingMs } from './call-limiter.ts';
import { CircuitOpenError } from './circuit.ts';
import type { CarrierGuards } from './guards.ts';
import { takeLimiterTurn } from './guards-repository.ts';
import { LocalGuards } from './local-guards.ts';
import { SharedGuards } from './shared-guards.ts';

/**
 * The promises every guard registry keeps, checked on both: in process, and shared through PostgreSQL
 * by two registries standing for two worker processes (each with its own connection pool). In process,
 * "the other worker" is the same registry: one process keeps the same promises for all its callers.
 */
const kinds: Array<'local' | 'shared'> = process.env.TEST_DATABASE_URL ? ['local', 'shared'] : ['local'];

/** Largest number of moments inside any window of `windowMs` (half-open, as a carrier counts). */
const maxInWindow = (moments: number[], windowMs: number): number => {
  const sorted = [...moments].sort((a, b) => a - b);
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < sorted.length; hi++) {
    while (sorted[hi] - sorted[lo] >= windowMs) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
};

/** The closest two requests at `requestsPerSecond` may leave (a late one absorbed, ADR 0060). */
const closestMs = (requestsPerSecond: number) => {
  const interval = spacingMs(requestsPerSecond, DEFAULT_SAFETY_MARGIN);
  return interval - latenessToleranceMs(interval, DEFAULT_SAFETY_MARGIN);
};

/**
 * A request through `limiter` that leaves `lateMs` after it is let go (the event loop held that long, as
 * by other work or undici's turn) and answers after `ms`; records when it left.
 */
const request = (
  limiter: CallLimiter,
  left: number[],
  ms = 0,
  inFlight?: { now: number; peak: number },
  lateMs = 0,
) =>
  limiter.schedule(async (moment) => {
    const until = performance.now() + lateMs;
    while (performance.now() < until) {
      // the event loop is busy
    }
    assert.equal(moment.sending(), true);
    left.push(performance.now());
    moment.sent();
    if (inFlight) inFlight.peak = Math.max(inFlight.peak, ++inFlight.now);
    await delay(ms);
    if (inFlight) inFlight.now--;
  });

const sealer = {
  seal: (text: string) => `sealed:${Buffer.from(text).toString('base64')}`,
  open: (text: string) => Buffer.from(text.replace(/^sealed:/, ''), 'base64').toString(),
};

for (const kind of kinds) {
  describe(`carrier guards (${kind === 'local' ? 'in process' : 'shared in PostgreSQL by two processes'})`, () => {
    const databases: TestDatabase[] = [];
    let made: CarrierGuards[] = [];
    let keyCount = 0;
    const key = () => `account-${++keyCount}`;

    /** The guards of two workers of one deployment. */
    const workers = (): [CarrierGuards, CarrierGuards] => {
      if (kind === 'local') {
        const guards = new LocalGuards();
        return [guards, guards];
      }
      const pair = databases.map(
        (database, index) =>
          new SharedGuards({
            db: database.db,
            notifications: database.notifications,
            holder: `worker-${index}-${keyCount}`,
            sealer,
            onError: (error) => assert.fail(`guards' bookkeeping failed: ${String(error)}`),
          }),
      );
      made.push(...pair);
      return [pair[0], pair[1]];
    };

    before(async () => {
      if (kind === 'local') return;
      const first = await createTestDatabase('postgres');
      databases.push(first);
      // The second "process": its own pool (and listener) on the same database.
      const { openPostgres } = await import('../../db/database.ts');
      const url = new URL(process.env.TEST_DATABASE_URL!);
      url.pathname = first.location.slice(first.location.lastIndexOf('/'));
      const second = openPostgres(url.toString(), 5);
      databases.push({ ...second, drop: () => second.close() });
    });
    after(async () => {
      for (const guards of made) guards.close();
      made = [];
      for (const database of databases.reverse()) await database.drop();
    });

    it('spaces the requests of both workers by the limit, and caps them in flight together', async () => {
      const [a, b] = workers();
      const account = key();
      const limits = { requestsPerSecond: 20, maxConcurrent: 2 };
      const left: number[] = [];
      const inFlight = { now: 0, peak: 0 };
      await Promise.all([
        ...Array.from({ length: 15 }, () => request(a.limiter(account, limits), left, 120, inFlight)),
        ...Array.from({ length: 15 }, () => request(b.limiter(account, limits), left, 120, inFlight)),
      ]);
      const sorted = left.sort((x, y) => x - y);
      const gaps = sorted.slice(1).map((at, index) => at - sorted[index]);
      assert.ok(
        Math.min(...gaps) >= closestMs(20),
        `smallest gap ${Math.min(...gaps).toFixed(1)} ms (closest allowed: ${closestMs(20)} ms)`,
      );
      assert.ok(maxInWindow(sorted, 1000) <= 20);
      assert.equal(inFlight.peak, 2, 'never more than 2 in flight, and the 2 are used');
    });

    it('without a rate, the requests of both workers run up to the cap at once, never beyond it', async () => {
      const [a, b] = workers();
      const account = key();
      const limits = { requestsPerSecond: null, maxConcurrent: 6 };
      const left: number[] = [];
      const inFlight = { now: 0, peak: 0 };
      await Promise.all([
        ...Array.from({ length: 24 }, () => request(a.limiter(account, limits), left, 40, inFlight)),
        ...Array.from({ length: 24 }, () => request(b.limiter(account, limits), left, 40, inFlight)),
      ]);
      assert.equal(left.length, 48);
      assert.equal(inFlight.peak, 6, 'never more than 6 in flight, and the 6 are used');
    });

    it('a request that leaves a few milliseconds late does not push the next ones back', async () => {
      // Each request leaves 3 ms after it is let go. Counted from the moment each left, 30 requests at
      // 50/s would take 29 × (20.4 + 3) ms or more; counted from their due moments, 29 × 20.4.
      const [a] = workers();
      const account = key();
      const limits = { requestsPerSecond: 50, maxConcurrent: 10 };
      const left: number[] = [];
      await Promise.all(
        Array.from({ length: 30 }, () => request(a.limiter(account, limits), left, 30, undefined, 3)),
      );
      const sorted = left.sort((x, y) => x - y);
      const span = sorted.at(-1)! - sorted[0];
      const interval = spacingMs(50, DEFAULT_SAFETY_MARGIN);
      assert.ok(span < 29 * (interval + 1.5), `30 requests left over ${span.toFixed(1)} ms`);
      const gaps = sorted.slice(1).map((at, index) => at - sorted[index]);
      assert.ok(Math.min(...gaps) >= closestMs(50), `smallest gap ${Math.min(...gaps).toFixed(1)} ms`);
    });

    it('a request held back longer than the tolerance holds the next one back with it', async () => {
      const [a] = workers();
      const account = key();
      const limits = { requestsPerSecond: 10, maxConcurrent: 4 };
      const left: number[] = [];
      await Promise.all(
        [150, 0, 0].map((lateMs) => request(a.limiter(account, limits), left, 20, undefined, lateMs)),
      );
      const gaps = left.slice(1).map((at, index) => at - left[index]);
      assert.ok(
        Math.min(...gaps) >= closestMs(10),
        `gaps ${gaps.map((gap) => gap.toFixed(1)).join(', ')} ms`,
      );
    });

    it("a carrier's Retry-After on one worker holds the other", async () => {
      const [a, b] = workers();
      const account = key();
      const limits = { requestsPerSecond: null, maxConcurrent: 4 };
      a.limiter(account, limits).pauseFor(400);
      await delay(50); // the pause is written
      const t0 = performance.now();
      const left: number[] = [];
      await request(b.limiter(account, limits), left);
      assert.ok(left[0] - t0 >= 300, `started ${(left[0] - t0).toFixed(0)} ms after the pause began`);
    });

    it('the circuit opened by one worker is open for the other, and one success of the probe closes it for both', async () => {
      const [a, b] = workers();
      const account = key();
      const settings = { consecutiveFailures: 3, halfOpenAfterMs: 300 };
      const failing = () => Promise.reject(new CarrierError({ kind: 'transient', message: 'down' }));
      for (const guards of [a, b, a]) {
        await assert.rejects(guards.circuit(account, settings).execute(failing), /down/);
      }
      await delay(50); // the other worker hears of it
      let called = false;
      for (const guards of [a, b]) {
        await assert.rejects(
          guards.circuit(account, settings).execute(async () => {
            called = true;
          }),
          CircuitOpenError,
        );
        assert.equal(guards.circuit(account, settings).state(), 'open');
      }
      assert.equal(called, false, 'no call while open');
      await delay(300);
      assert.equal(await b.circuit(account, settings).execute(async () => 'probe'), 'probe');
      await delay(50);
      for (const guards of [a, b]) assert.equal(guards.circuit(account, settings).state(), 'closed');
      assert.equal(await a.circuit(account, settings).execute(async () => 'ok'), 'ok');
    });

    it('refusals and successes of one worker count for the other: failures must be consecutive', async () => {
      const [a, b] = workers();
      const account = key();
      const settings = { consecutiveFailures: 3, halfOpenAfterMs: 10_000 };
      const failing = () => Promise.reject(new CarrierError({ kind: 'auth', message: 'refused' }));
      const refusing = () => Promise.reject(new CarrierError({ kind: 'rejected', message: 'no such line' }));
      await assert.rejects(a.circuit(account, settings).execute(failing));
      await assert.rejects(b.circuit(account, settings).execute(failing));
      await assert.rejects(b.circuit(account, settings).execute(refusing)); // the carrier answered: a success
      await assert.rejects(a.circuit(account, settings).execute(failing));
      await assert.rejects(b.circuit(account, settings).execute(failing));
      assert.equal(a.circuit(account, settings).state(), 'closed', 'only 2 in a row');
    });

    /** Asks for the login turn as a caller does: with the state it has just read. */
    const turn = async (guards: CarrierGuards, account: string, generation: number, turnMs: number) =>
      guards
        .sessions(account)
        .takeLoginTurn(generation, await guards.sessions(account).read(generation), turnMs);

    it('one login for both workers: a turn at a time, the others read its session', async () => {
      const [a, b] = workers();
      const account = key();
      const generation = 1;
      const first = await turn(a, account, generation, 5_000);
      assert.equal(first, true);
      // The other waits for the turn to end, then reads the session the first stored.
      const second = turn(b, account, generation, 5_000);
      await delay(150);
      await a.sessions(account).endLogin(generation, { session: 'tokens-1' });
      assert.equal(await second, false);
      const state = await b.sessions(account).read(generation);
      assert.equal(state.session, 'tokens-1');
      assert.equal(state.refusedLogins, 0);
      // A stale discard (of an older version) changes nothing; the current one forgets the session.
      await b.sessions(account).discard(generation, state.version - 1);
      assert.equal((await a.sessions(account).read(generation)).session, 'tokens-1');
      await b.sessions(account).discard(generation, state.version);
      assert.equal((await a.sessions(account).read(generation)).session, null);
    });

    it('refused logins are counted for both workers; new credentials start afresh', async () => {
      const [a, b] = workers();
      const account = key();
      for (const guards of [a, b, a]) {
        assert.equal(await turn(guards, account, 1, 5_000), true);
        await guards.sessions(account).endLogin(1, 'refused');
      }
      assert.equal((await b.sessions(account).read(1)).refusedLogins, 3);
      // A failure that says nothing about the credentials (a timeout) is not a refusal.
      assert.equal(await turn(b, account, 1, 5_000), true);
      await b.sessions(account).endLogin(1, 'failed');
      assert.equal((await a.sessions(account).read(1)).refusedLogins, 3);
      const updated = await a.sessions(account).read(2);
      assert.deepEqual([updated.refusedLogins, updated.session, updated.superseded], [0, null, false]);
      assert.equal(
        (await b.sessions(account).read(1)).superseded,
        true,
        'the old credentials are superseded',
      );
    });

    it('a login that ended between a read and the turn is not repeated', async () => {
      const [a, b] = workers();
      const account = key();
      const seen = await b.sessions(account).read(1); // no session yet
      assert.equal(await turn(a, account, 1, 5_000), true);
      await a.sessions(account).endLogin(1, { session: 'tokens-1' });
      assert.equal(
        await b.sessions(account).takeLoginTurn(1, seen, 5_000),
        false,
        'b reads the session instead',
      );
      assert.equal((await b.sessions(account).read(1)).session, 'tokens-1');
    });

    it('a login turn whose holder died runs out', async () => {
      const [a, b] = workers();
      const account = key();
      assert.equal(await turn(a, account, 1, 300), true); // and never ended
      const t0 = performance.now();
      assert.equal(await turn(b, account, 1, 300), false);
      assert.ok(performance.now() - t0 >= 250);
      assert.equal(await turn(b, account, 1, 300), true);
    });
  });
}

if (kinds.includes('shared')) {
  describe('shared carrier guards: leases and turns between workers', () => {
    let database: TestDatabase;
    const made: SharedGuards[] = [];
    const worker = (holder: string) => {
      const guards = new SharedGuards({
        db: database.db,
        notifications: database.notifications,
        holder,
        sealer,
        onError: (error) => assert.fail(`guards' bookkeeping failed: ${String(error)}`),
      });
      made.push(guards);
      return guards;
    };
    before(async () => {
      database = await createTestDatabase('postgres');
    });
    after(async () => {
      for (const guards of made) guards.close();
      await database.drop();
    });

    it('a slot and a send turn taken by a worker that died are free again when their leases run out', async () => {
      // The dead worker took account-x's only slot and its send turn, and never came back.
      const taken = await takeLimiterTurn(database.db, {
        key: 'account-x',
        holder: 'dead-worker',
        maxConcurrent: 1,
        intervalMs: 100,
        lookaheadMs: 0,
        turnMs: 300,
        slotLeaseMs: 600,
        liveWaiterMs: 3_000,
        more: false,
        stintMs: 250,
        count: 1,
      });
      assert.equal(taken.taken, true);
      const t0 = performance.now();
      const left: number[] = [];
      await request(
        worker('live-worker').limiter('account-x', { requestsPerSecond: 10, maxConcurrent: 1 }),
        left,
      );
      const waited = left[0] - t0;
      // The turn counts as a request that left at its end (300 ms), and the slot frees at 600 ms.
      assert.ok(waited >= 550 && waited < 2_500, `waited ${waited.toFixed(0)} ms`);
    });

    it('without a rate, one take leases a slot for each request asked for, up to the free ones', async () => {
      const take = (holder: string, intervalMs: number, count: number) =>
        takeLimiterTurn(database.db, {
          key: `account-many-${intervalMs}`,
          holder,
          maxConcurrent: 8,
          intervalMs,
          lookaheadMs: 0,
          turnMs: 1_000,
          slotLeaseMs: 10_000,
          liveWaiterMs: 3_000,
          more: false,
          stintMs: 250,
          count,
        });
      const slotsOf = (result: Awaited<ReturnType<typeof take>>) => (result.taken ? result.slots : []);
      assert.deepEqual(slotsOf(await take('many-a', 0, 5)), [0, 1, 2, 3, 4]);
      assert.deepEqual(slotsOf(await take('many-b', 0, 5)), [5, 6, 7], 'the 3 left of the cap of 8');
      const full = await take('many-c', 0, 1);
      assert.ok(!full.taken && full.waitMs === null, 'none left: wait for a release');
      // With a rate, a take is one request's send turn: one slot, however many are asked for.
      assert.deepEqual(slotsOf(await take('many-a', 100, 5)), [0]);
    });

    it('workers take turns: one that keeps asking does not starve another', async () => {
      const a = worker('turns-a');
      const b = worker('turns-b');
      const limits = { requestsPerSecond: 25, maxConcurrent: 1 };
      const order: string[] = [];
      const run = (guards: SharedGuards, name: string) =>
        guards.limiter('account-turns', limits).schedule(async (moment) => {
          moment.sent();
          order.push(name);
          await delay(5);
        });
      const first = Array.from({ length: 20 }, () => run(a, 'a'));
      while (order.length === 0) await delay(5); // a is under way when b asks (however loaded the machine)
      const second = Array.from({ length: 8 }, () => run(b, 'b'));
      await Promise.all([...first, ...second]);
      // a keeps its turn for a stint (250 ms: about 6 requests at 25/s), then b has its own.
      const firstB = order.indexOf('b');
      assert.ok(firstB > 0 && firstB <= 10, `b's first request came ${firstB}th: ${order.join('')}`);
      assert.ok(order.lastIndexOf('a') > firstB, `a and b took turns: ${order.join('')}`);
    });
  });
}
