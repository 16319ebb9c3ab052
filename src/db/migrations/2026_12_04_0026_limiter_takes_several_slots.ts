import { type Kysely, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as typed now.
type AnyDb = Kysely<any>;

/**
 * `guard_limiter_take` (migration 0014, ADR 0014) takes up to `p_count` concurrency slots in its one
 * round trip when the account's rate is not limited (ADR 0061). One slot a round trip held a fast
 * account's requests to one at a time on PostgreSQL: a request to a quick carrier is over before the
 * next take comes back. With a rate, a take is still one request's send turn, so one slot.
 * Every rule of the function is as before; only the slots part changes.
 */
export async function up(db: AnyDb, capabilities: { sharedGuards: boolean }): Promise<void> {
  if (!capabilities.sharedGuards) return;
  await sql`DROP FUNCTION guard_limiter_take(text, text, integer, float8, float8, float8, float8, float8, boolean, float8)`.execute(
    db,
  );
  await sql`
    CREATE FUNCTION guard_limiter_take(
      p_key text, p_holder text, p_max integer, p_interval float8, p_lookahead float8,
      p_turn_ms float8, p_slot_lease_ms float8, p_live_ms float8, p_more boolean, p_stint_ms float8,
      p_count integer
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
      wanted integer;
      slots integer[];
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

      -- Concurrency slots: free, or leased by a holder that stopped renewing them. One with a rate (a
      -- take is one request's send turn); as many as asked without one.
      wanted := CASE WHEN p_interval > 0 THEN 1 ELSE greatest(p_count, 1) END;
      IF p_max IS NOT NULL THEN
        INSERT INTO guard_slots (key, slot)
          SELECT p_key, g FROM generate_series(0, p_max - 1) g ON CONFLICT DO NOTHING;
        WITH free AS (
          SELECT s.slot FROM guard_slots s
          WHERE s.key = p_key AND s.slot < p_max AND (s.holder IS NULL OR s.leased_until < t)
          ORDER BY s.slot LIMIT wanted
        ), leased AS (
          UPDATE guard_slots g SET holder = p_holder, leased_until = t + p_slot_lease_ms
          FROM free WHERE g.key = p_key AND g.slot = free.slot
          RETURNING g.slot
        )
        SELECT array_agg(leased.slot ORDER BY leased.slot) INTO slots FROM leased;
        IF slots IS NULL THEN
          -- Wait for a release (notified), or look again within a second.
          RETURN QUERY SELECT false, NULL::integer, NULL::float8, t, NULL::float8, NULL::float8, NULL::text;
          RETURN;
        END IF;
      ELSE
        slots := array_fill(NULL::integer, ARRAY[wanted]);
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
      -- One row per slot taken. Who sent last, and when: a process that sent the last request itself
      -- spaces the next from its own moments (no round trip in between).
      RETURN QUERY SELECT true, taken_slot, begin_at, t, 0::float8, last_left, l.last_sender
        FROM unnest(slots) AS taken_slot;
    END $$
  `.execute(db);
}
