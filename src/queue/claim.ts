import type { Selectable } from 'kysely';
import type { Db, Dialect } from '../db/database.ts';
import type { JobTable } from '../db/schema.ts';
import type { ClaimOptions } from './types.ts';

/**
 * Claims up to `limit` due jobs for one worker. Due: pending with `run_at <= now`, or running with an
 * expired lease (its worker died).
 *
 *   UPDATE jobs SET state = 'running', locked_by, locked_until, attempts = attempts + 1, updated_at
 *   WHERE id IN (SELECT id FROM jobs WHERE <due> ORDER BY run_at, id LIMIT n [FOR UPDATE SKIP LOCKED])
 *   RETURNING *
 *
 * On PostgreSQL `FOR UPDATE SKIP LOCKED` lets any number of workers claim at once: each candidate row
 * is locked by exactly one claimer, the others skip it. SQLite has no such clause (Kysely emits it
 * verbatim, a syntax error there) and needs none: it has a single writer, so the one statement is
 * atomic and two claimers can never both take a row.
 */
export function claimJobs(db: Db, dialect: Dialect, options: ClaimOptions): Promise<Selectable<JobTable>[]> {
  const { workerId, limit, leaseMs, now } = options;
  return db
    .updateTable('jobs')
    .set((eb) => ({
      state: 'running',
      locked_by: workerId,
      locked_until: now + leaseMs,
      attempts: eb('attempts', '+', 1),
      updated_at: now,
    }))
    .where('id', 'in', (eb) => {
      const candidates = eb
        .selectFrom('jobs')
        .select('id')
        .where((w) =>
          w.or([
            w.and([w('state', '=', 'pending'), w('run_at', '<=', now)]),
            w.and([w('state', '=', 'running'), w('locked_until', '<', now)]),
          ]),
        )
        .orderBy('run_at')
        .orderBy('id')
        .limit(limit);
      return dialect === 'postgres' ? candidates.forUpdate().skipLocked() : candidates;
    })
    .returningAll()
    .execute();
}
