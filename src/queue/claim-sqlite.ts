import type { Selectable } from 'kysely';
import type { Db } from '../db/database.ts';
import type { JobTable } from '../db/schema.ts';
import type { ClaimOptions } from './types.ts';

/**
 * Claims up to `limit` due jobs for one worker on SQLite: the PostgreSQL statement without the lock
 * clause (a syntax error in SQLite). SQLite has a single writer, so the one UPDATE … RETURNING
 * statement is atomic: two claimers can never both take a row.
 */
export function claimJobsSqlite(db: Db, options: ClaimOptions): Promise<Selectable<JobTable>[]> {
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
    .where('id', 'in', (eb) =>
      eb
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
        .limit(limit),
    )
    .returningAll()
    .execute();
}
