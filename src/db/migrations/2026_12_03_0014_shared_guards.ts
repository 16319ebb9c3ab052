import { type Kysely, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as typed now.
type AnyDb = Kysely<any>;

/**
 * The per-account guards every worker shares on PostgreSQL (ADR 0014): limiters, circuits and login
 * sessions. Times are epoch milliseconds of the database's clock (`clock_timestamp()`), never a
 * process's, so clock skew between machines cannot let a request through early. The embedded database
 * has one process and keeps its guards in memory: nothing is created there.
 */
export async function up(db: AnyDb, capabilities: { sharedGuards: boolean }): Promise<void> {
  if (!capabilities.sharedGuards) return;

  // One row per limiter key: when the last request left, who holds the turn to send the next one
  // (until when), and the carrier's Retry-After pause.
  await db.schema
    .createTable('guard_limiters')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('last_sent_at', 'float8', (c) => c.notNull().defaultTo(0))
    .addColumn('last_sender', 'text')
    .addColumn('sender', 'text')
    .addColumn('turn_start', 'float8')
    .addColumn('send_until', 'float8')
    .addColumn('paused_until', 'float8', (c) => c.notNull().defaultTo(0))
    .addColumn('stint_holder', 'text')
    .addColumn('stint_start', 'float8')
    .execute();
  // The concurrency cap as leased slots: a dead holder's lease runs out, a slot is never lost.
  await db.schema
    .createTable('guard_slots')
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('slot', 'integer', (c) => c.notNull())
    .addColumn('holder', 'text')
    .addColumn('leased_until', 'float8')
    .addPrimaryKeyConstraint('guard_slots_pk', ['key', 'slot'])
    .execute();
  // Processes waiting to start a request on a key, oldest first: processes take turns.
  await db.schema
    .createTable('guard_waiters')
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('holder', 'text', (c) => c.notNull())
    .addColumn('since', 'float8', (c) => c.notNull())
    .addColumn('seen_at', 'float8', (c) => c.notNull())
    .addPrimaryKeyConstraint('guard_waiters_pk', ['key', 'holder'])
    .execute();
  // Circuit breakers: consecutive failures of the whole deployment, open until, and the one probe.
  await db.schema
    .createTable('guard_circuits')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('open_until', 'float8')
    .addColumn('prober', 'text')
    .addColumn('probe_until', 'float8')
    .execute();
  // Login sessions (encrypted) and refused logins in a row, per credentials generation; the login turn.
  await db.schema
    .createTable('guard_sessions')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('generation', 'float8', (c) => c.notNull())
    .addColumn('session_encrypted', 'text')
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('refused_logins', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('turn_holder', 'text')
    .addColumn('turn_until', 'float8')
    .execute();

  // Taking the right to start one request, in one round trip and under the limiter row's lock, so
  // that processes decide one at a time (shared-limiter.ts calls it; ADR 0014 explains each rule).
  await sql`
    CREATE FUNCTION guard_limiter_take(
      p_key text, p_holder text, p_max integer, p_interval float8, p_lookahead float8,
      p_turn_ms float8, p_slot_lease_ms float8, p_live_ms float8, p_more boolean, p_stint_ms float8
    ) RETURNS TABLE (
      taken boolean, slot integer, start_at float8, now_at float8, wait_ms float8,
      last_left float8, last_sender text
    )
    LANGUAGE plpgsql AS $$
    DECLARE
      l guard_limiters%ROWTYPE;
      t float8;
      mine float8;
      last_left float8;
      begin_at float8;
      free integer;
    BEGIN
      INSERT INTO guard_limiters (key) VALUES (p_key) ON CONFLICT (key) DO NOTHING;
      SELECT * INTO l FROM guard_limiters WHERE key = p_key FOR UPDATE;
      t := extract(epoch FROM clock_timestamp()) * 1000;

      -- Processes take turns: one that has waited longer, and is still waiting, goes first. (Rows of
      -- processes long gone are dropped here.)
      DELETE FROM guard_waiters WHERE key = p_key AND seen_at < t - 3600000;
      INSERT INTO guard_waiters AS w (key, holder, since, seen_at) VALUES (p_key, p_holder, t, t)
        ON CONFLICT (key, holder) DO UPDATE SET seen_at = t
        RETURNING w.since INTO mine;
      IF EXISTS (
        SELECT 1 FROM guard_waiters w
        WHERE w.key = p_key AND w.holder <> p_holder AND w.seen_at > t - p_live_ms AND w.since < mine
      ) THEN
        RETURN QUERY SELECT false, NULL::integer, NULL::float8, t, greatest(p_interval / 4, 5)::float8,
          NULL::float8, NULL::text;
        RETURN;
      END IF;

      -- The send turn: held from taking until the request has left. A turn held past its end (its
      -- holder died or stalled) counts as a request that left at its end.
      last_left := l.last_sent_at;
      IF l.sender IS NOT NULL THEN
        IF l.send_until > t THEN
          RETURN QUERY SELECT false, NULL::integer, NULL::float8, t,
            greatest(l.turn_start + p_interval - p_lookahead - t, 1)::float8, NULL::float8, NULL::text;
          RETURN;
        END IF;
        last_left := greatest(last_left, l.send_until);
        l.last_sender := NULL;
      END IF;
      begin_at := greatest(last_left + p_interval, l.paused_until, t);
      IF begin_at > t + p_lookahead THEN
        RETURN QUERY SELECT false, NULL::integer, NULL::float8, t, begin_at - p_lookahead - t,
          NULL::float8, NULL::text;
        RETURN;
      END IF;

      -- A concurrency slot: free, or leased by a holder that stopped renewing it.
      IF p_max IS NOT NULL THEN
        INSERT INTO guard_slots (key, slot)
          SELECT p_key, g FROM generate_series(0, p_max - 1) g ON CONFLICT DO NOTHING;
        SELECT s.slot INTO free FROM guard_slots s
          WHERE s.key = p_key AND s.slot < p_max AND (s.holder IS NULL OR s.leased_until < t)
          ORDER BY s.slot LIMIT 1;
        IF free IS NULL THEN
          -- Wait for a release (notified), or look again within a second.
          RETURN QUERY SELECT false, NULL::integer, NULL::float8, t, NULL::float8, NULL::float8, NULL::text;
          RETURN;
        END IF;
        UPDATE guard_slots SET holder = p_holder, leased_until = t + p_slot_lease_ms
          WHERE key = p_key AND guard_slots.slot = free;
      END IF;

      IF p_interval > 0 THEN
        UPDATE guard_limiters
          SET sender = p_holder, turn_start = begin_at, send_until = begin_at + p_turn_ms,
              last_sent_at = last_left
          WHERE key = p_key;
      END IF;
      -- A process keeps its place for a stint of consecutive requests (spaced on its own clock, no
      -- round trip between them), then goes to the back of the line if it has more.
      IF l.stint_holder IS DISTINCT FROM p_holder THEN
        UPDATE guard_limiters SET stint_holder = p_holder, stint_start = t WHERE key = p_key;
        l.stint_start := t;
      END IF;
      IF NOT p_more THEN
        DELETE FROM guard_waiters WHERE key = p_key AND holder = p_holder;
      ELSIF t - l.stint_start >= p_stint_ms THEN
        UPDATE guard_waiters SET since = t WHERE key = p_key AND holder = p_holder;
      END IF;
      -- Who sent last, and when: a process that sent the last request itself spaces the next from
      -- the moment it saw that one leave, on its own clock (no round trip in between).
      RETURN QUERY SELECT true, free, begin_at, t, 0::float8, last_left, l.last_sender;
    END $$
  `.execute(db);
}
