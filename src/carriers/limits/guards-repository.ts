import { sql } from 'kysely';
import type { Executor } from '../../db/database.ts';

/**
 * Every SQL statement of the shared guards (ADR 0014). Times are epoch milliseconds of the database's
 * clock: every decision about "now" is the database's, so machines with different clocks agree.
 */

/** The channel the guards wake each other on; payloads are `<kind>:<key>`. */
export const GUARDS_CHANNEL = 'bulkchange_guards';

const now = sql<number>`(extract(epoch from clock_timestamp()) * 1000)::float8`;

export interface TakeRequest {
  key: string;
  holder: string;
  /** `null`: no cap on requests in flight. */
  maxConcurrent: number | null;
  /** Spacing between two requests leaving; 0 when the rate is not limited. */
  intervalMs: number;
  /** How far ahead of its start a turn may be taken (the caller then waits for the start). */
  lookaheadMs: number;
  /** How long the send turn lasts from its start: the request must have left by then. */
  turnMs: number;
  slotLeaseMs: number;
  /** A waiting process not heard from in this long no longer goes first. */
  liveWaiterMs: number;
  /** More requests of this process wait behind this one (it keeps its place until its stint ends). */
  more: boolean;
  /** How long a process keeps taking turns on end before it goes to the back of the line. */
  stintMs: number;
  /** How many requests to start: slots taken at once when the rate is not limited (else one). */
  count: number;
}

export type TakeResult =
  | {
      taken: true;
      /** One per request that may start (`null`: no cap on requests in flight). */
      slots: Array<number | null>;
      startAt: number;
      nowAt: number;
      /** When the last request left (the database's stamp), and which process sent it. */
      lastSentAt: number;
      lastSender: string | null;
    }
  /** `waitMs` null: wait for a slot to be released. */
  | { taken: false; nowAt: number; waitMs: number | null };

/**
 * One try at starting requests: a slot each (up to `count` without a rate limit), the send turn (with
 * one) and the process's place in line, in one round trip.
 */
export async function takeLimiterTurn(db: Executor, request: TakeRequest): Promise<TakeResult> {
  const { rows } = await sql<{
    taken: boolean;
    slot: number | null;
    start_at: number | null;
    now_at: number;
    wait_ms: number | null;
    last_left: number | null;
    last_sender: string | null;
  }>`select * from guard_limiter_take(
      ${request.key}, ${request.holder}, ${request.maxConcurrent}::integer, ${request.intervalMs}::float8,
      ${request.lookaheadMs}::float8, ${request.turnMs}::float8, ${request.slotLeaseMs}::float8,
      ${request.liveWaiterMs}::float8, ${request.more}, ${request.stintMs}::float8,
      ${request.count}::integer)`.execute(db);
  const [row] = rows;
  return row.taken
    ? {
        taken: true,
        slots: rows.map((taken) => taken.slot),
        startAt: Number(row.start_at),
        nowAt: row.now_at,
        lastSentAt: Number(row.last_left),
        lastSender: row.last_sender,
      }
    : { taken: false, nowAt: row.now_at, waitMs: row.wait_ms };
}

/**
 * The request has left: the turn is free, and the spacing counts from now (a time after it left).
 * Returns the stamp, or undefined when the turn was no longer this process's.
 */
export async function releaseTurn(db: Executor, key: string, holder: string): Promise<number | undefined> {
  const row = await db
    .updateTable('guard_limiters')
    .set((eb) => ({
      sender: null,
      turn_start: null,
      send_until: null,
      last_sent_at: eb.fn('greatest', [eb.ref('last_sent_at'), now]),
      last_sender: holder,
    }))
    .where('key', '=', key)
    .where('sender', '=', holder)
    .returning('last_sent_at')
    .executeTakeFirst();
  return row?.last_sent_at;
}

/** Frees concurrency slots and wakes the processes waiting for one (one notification). */
export async function releaseSlots(
  db: Executor,
  key: string,
  slots: readonly number[],
  holder: string,
): Promise<void> {
  await sql`
    with released as (
      update guard_slots set holder = null, leased_until = null
      where key = ${key} and slot = any(${slots}::integer[]) and holder = ${holder}
      returning key
    )
    select pg_notify(${GUARDS_CHANNEL}, ${`slot:${key}`}) from released limit 1`.execute(db);
}

/** Keeps the slots `holder` holds (its requests are still running). */
export async function renewSlots(db: Executor, holder: string, leaseMs: number): Promise<void> {
  await db
    .updateTable('guard_slots')
    .set({ leased_until: sql<number>`${now} + ${leaseMs}::float8` })
    .where('holder', '=', holder)
    .execute();
}

/** Holds the process's waiting place no more (nothing of it waits on `key`). */
export async function leaveLine(db: Executor, key: string, holder: string): Promise<void> {
  await db.deleteFrom('guard_waiters').where('key', '=', key).where('holder', '=', holder).execute();
}

/** The carrier's `Retry-After`: nothing starts on `key` for `ms` (a pause never shortens another). */
export async function pause(db: Executor, key: string, ms: number): Promise<void> {
  await db
    .insertInto('guard_limiters')
    .values({ key, last_sent_at: 0, paused_until: sql<number>`${now} + ${ms}::float8` })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet((eb) => ({
        paused_until: eb.fn('greatest', [
          eb.ref('guard_limiters.paused_until'),
          eb.ref('excluded.paused_until'),
        ]),
      })),
    )
    .execute();
}

export interface CircuitRow {
  failures: number;
  openUntil: number | null;
  prober: string | null;
  probeUntil: number | null;
  nowAt: number;
}

/** A circuit as its statements return it (no row yet: no failures), with the database's clock. */
interface CircuitSqlRow {
  failures: number | null;
  open_until: number | null;
  prober: string | null;
  probe_until: number | null;
  now_at: number;
}

const circuitOf = (row: CircuitSqlRow): CircuitRow => ({
  failures: row.failures ?? 0,
  openUntil: row.open_until,
  prober: row.prober,
  probeUntil: row.probe_until,
  nowAt: row.now_at,
});

/** The circuit as stored (closed with no failures when it has no row yet). */
export async function readCircuit(db: Executor, key: string): Promise<CircuitRow> {
  const { rows } =
    await sql<CircuitSqlRow>`select c.failures, c.open_until, c.prober, c.probe_until, ${now} as now_at
     from (select 1) one left join guard_circuits c on c.key = ${key}`.execute(db);
  const [row] = rows;
  return circuitOf(row);
}

/**
 * Asks to call while the circuit is not plainly closed: `probe` when this caller got to send the one
 * probe of a half-open circuit. The row as it was before is returned with it.
 */
export async function askCircuit(
  db: Executor,
  key: string,
  prober: string,
  probeMs: number,
): Promise<CircuitRow & { probe: boolean }> {
  const { rows } = await sql<CircuitSqlRow & { probe: boolean }>`
    with t as (select ${now} as now_at),
    probe as (
      update guard_circuits c set prober = ${prober}, probe_until = t.now_at + ${probeMs}::float8
      from t
      where c.key = ${key} and c.open_until is not null and c.open_until <= t.now_at
        and (c.prober is null or c.probe_until < t.now_at)
      returning c.key
    )
    select c.failures, c.open_until, c.prober, c.probe_until, t.now_at,
           exists (select 1 from probe) as probe
    from t left join guard_circuits c on c.key = ${key}`.execute(db);
  const [row] = rows;
  return { ...circuitOf(row), probe: row.probe };
}

/**
 * A call succeeded: the run of failures is over; a successful probe closes the circuit (and wakes every
 * process, so they resume together). A success while open, from a call sent before it opened, does not
 * close it. `undefined` when there was nothing to change.
 */
export async function circuitSucceeded(
  db: Executor,
  key: string,
  prober: string,
): Promise<CircuitRow | undefined> {
  const { rows } = await sql<CircuitSqlRow>`
    with t as (select ${now} as now_at),
    changed as (
      update guard_circuits c set
        failures = 0,
        open_until = case when c.prober = ${prober} then null else c.open_until end,
        probe_until = case when c.prober = ${prober} then null else c.probe_until end,
        prober = case when c.prober = ${prober} then null else c.prober end
      where c.key = ${key} and (c.failures > 0 or c.prober = ${prober})
      returning c.failures, c.open_until, c.prober, c.probe_until
    ),
    woken as (select pg_notify(${GUARDS_CHANNEL}, ${`circuit:${key}`}) from changed)
    select ch.failures, ch.open_until, ch.prober, ch.probe_until, t.now_at, (select count(*) from woken) as woken
    from t, changed ch`.execute(db);
  const [row] = rows;
  if (!row) return undefined; // nothing to end: no run of failures, not the probe
  return circuitOf(row);
}

/**
 * A call failed the way that counts (transient or auth): one more in the deployment's run; at
 * `threshold` in a row, or when the probe failed, the circuit opens for `halfOpenMs`. A failure of a
 * call sent before it opened changes nothing. Every process is woken to see it.
 */
export async function circuitFailed(
  db: Executor,
  request: { key: string; prober: string; threshold: number; halfOpenMs: number },
): Promise<CircuitRow> {
  const { key, prober, threshold, halfOpenMs } = request;
  const { rows } = await sql<CircuitSqlRow>`
    with t as (select ${now} as now_at),
    changed as (
      insert into guard_circuits as c (key, failures, open_until)
      select ${key}, 1, case when 1 >= ${threshold}::integer then t.now_at + ${halfOpenMs}::float8 end from t
      on conflict (key) do update set
        failures = case when c.open_until is null then c.failures + 1 else c.failures end,
        open_until = case
          when c.prober = ${prober} then (select now_at from t) + ${halfOpenMs}::float8
          when c.open_until is null and c.failures + 1 >= ${threshold}::integer
            then (select now_at from t) + ${halfOpenMs}::float8
          else c.open_until end,
        probe_until = case when c.prober = ${prober} then null else c.probe_until end,
        prober = case when c.prober = ${prober} then null else c.prober end
      returning c.failures, c.open_until, c.prober, c.probe_until
    ),
    woken as (select pg_notify(${GUARDS_CHANNEL}, ${`circuit:${key}`}) from changed)
    select ch.failures, ch.open_until, ch.prober, ch.probe_until, t.now_at, (select count(*) from woken) as woken
    from t, changed ch`.execute(db);
  const [row] = rows;
  return circuitOf(row);
}

export interface SessionRow {
  generation: number;
  sessionEncrypted: string | null;
  version: number;
  refusedLogins: number;
}

/** The account's session row for `generation`; a newer generation resets it (new credentials). */
export async function readSession(db: Executor, key: string, generation: number): Promise<SessionRow> {
  const { rows } = await sql<{
    generation: number;
    session_encrypted: string | null;
    version: number;
    refused_logins: number;
  }>`
    with up as (
      insert into guard_sessions as s (key, generation) values (${key}, ${generation}::float8)
      on conflict (key) do update set
        generation = excluded.generation, session_encrypted = null, version = s.version + 1,
        refused_logins = 0, turn_holder = null, turn_until = null
      where s.generation < excluded.generation
      returning s.generation, s.session_encrypted, s.version, s.refused_logins
    )
    select * from up
    union all
    select generation, session_encrypted, version, refused_logins from guard_sessions
    where key = ${key} and not exists (select 1 from up)`.execute(db);
  const [row] = rows;
  return {
    generation: row.generation,
    sessionEncrypted: row.session_encrypted,
    version: row.version,
    refusedLogins: row.refused_logins,
  };
}

/**
 * Takes the login turn of `generation` if nobody holds it (or its holder's turn ran out), and nothing
 * changed since the caller read the row (`seen`): no session stored or discarded, no refusal counted.
 */
export async function takeLoginTurn(
  db: Executor,
  request: {
    key: string;
    generation: number;
    holder: string;
    turnMs: number;
    seen: { version: number; refusedLogins: number };
  },
): Promise<boolean> {
  const result = await db
    .updateTable('guard_sessions')
    .set({ turn_holder: request.holder, turn_until: sql<number>`${now} + ${request.turnMs}::float8` })
    .where('key', '=', request.key)
    .where('generation', '=', request.generation)
    .where('version', '=', request.seen.version)
    .where('refused_logins', '=', request.seen.refusedLogins)
    .where((eb) => eb.or([eb('turn_holder', 'is', null), eb('turn_until', '<', now)]))
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Whether someone holds the login turn right now. */
export async function loginTurnHeld(db: Executor, key: string): Promise<boolean> {
  const row = await db
    .selectFrom('guard_sessions')
    .select((eb) => eb.and([eb('turn_holder', 'is not', null), eb('turn_until', '>=', now)]).as('held'))
    .where('key', '=', key)
    .executeTakeFirst();
  return row?.held === true;
}

/** Ends a login turn: a new session (refusals back to 0), one more refusal, or neither. */
export async function endLoginTurn(
  db: Executor,
  request: {
    key: string;
    generation: number;
    holder: string;
    outcome: { sessionEncrypted: string } | 'refused' | 'failed';
  },
): Promise<void> {
  const { key, generation, holder, outcome } = request;
  const stored = typeof outcome === 'object';
  await db
    .updateTable('guard_sessions')
    .set((eb) => ({
      ...(stored
        ? { session_encrypted: outcome.sessionEncrypted, version: eb('version', '+', 1), refused_logins: 0 }
        : outcome === 'refused'
          ? { refused_logins: eb('refused_logins', '+', 1) }
          : {}),
      turn_holder: eb.case().when('turn_holder', '=', holder).then(null).else(eb.ref('turn_holder')).end(),
      turn_until: eb.case().when('turn_holder', '=', holder).then(null).else(eb.ref('turn_until')).end(),
    }))
    .where('key', '=', key)
    .where('generation', '=', generation)
    .execute();
}

/** Forgets the session of `version` (the carrier refused it), unless another replaced it meanwhile. */
export async function discardSession(
  db: Executor,
  request: { key: string; generation: number; version: number },
): Promise<void> {
  await db
    .updateTable('guard_sessions')
    .set((eb) => ({ session_encrypted: null, version: eb('version', '+', 1) }))
    .where('key', '=', request.key)
    .where('generation', '=', request.generation)
    .where('version', '=', request.version)
    .where('session_encrypted', 'is not', null)
    .execute();
}
