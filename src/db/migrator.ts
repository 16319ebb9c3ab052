import type { Kysely } from 'kysely';
import { type Migration, type MigrationResultSet, Migrator } from 'kysely/migration';
import type { Capabilities } from './database.ts';
import * as initial from './migrations/2026_11_22_0001_initial.ts';
import * as syncAndGuards from './migrations/2026_11_22_0002_sync_and_guards.ts';
import * as billing from './migrations/2026_11_22_0003_billing.ts';
import * as sharedGuards from './migrations/2026_12_03_0014_shared_guards.ts';
import * as callbackRegistration from './migrations/2026_12_03_0015_callback_registration.ts';
import * as engineCounters from './migrations/2026_12_03_0016_engine_counters.ts';
import * as auditAndNotifications from './migrations/2026_12_03_0017_audit_and_notifications.ts';
import * as pause from './migrations/2026_12_03_0021g_pause.ts';
import * as waves from './migrations/2026_12_03_0021g_waves.ts';
import * as deviceHistory from './migrations/2026_12_03_0021h_device_history.ts';
import * as approvals from './migrations/2026_12_03_0023a_approvals.ts';
import * as undo from './migrations/2026_12_03_0023b_undo.ts';
import * as reconciliation from './migrations/2026_12_03_0023c_reconciliation.ts';
import * as sites from './migrations/2026_12_03_0023e_sites.ts';
import * as optimizationGroup from './migrations/2026_12_03_0023f_optimization_group.ts';
import * as users from './migrations/2026_12_03_0023g_users.ts';
import * as bulkChangeNames from './migrations/2026_12_03_0023h_bulk_change_names.ts';
import * as crashesAlone from './migrations/2026_12_04_0024_crashes_alone.ts';
import * as devicesInIdOrder from './migrations/2026_12_04_0025_devices_in_id_order.ts';
import * as limiterTakesSeveralSlots from './migrations/2026_12_04_0026_limiter_takes_several_slots.ts';

// biome-ignore lint/suspicious/noExplicitAny: migrations run against untyped, historical schemas.
type AnyDb = Kysely<any>;

interface VersionedMigration {
  up(db: AnyDb, capabilities: Capabilities): Promise<void>;
  down?(db: AnyDb, capabilities: Capabilities): Promise<void>;
}

/** Every migration, in order. Names never change once released. */
const migrations: Record<string, VersionedMigration> = {
  '2026_11_22_0001_initial': initial,
  '2026_11_22_0002_sync_and_guards': syncAndGuards,
  '2026_11_22_0003_billing': billing,
  '2026_12_03_0014_shared_guards': sharedGuards,
  '2026_12_03_0015_callback_registration': callbackRegistration,
  '2026_12_03_0016_engine_counters': engineCounters,
  '2026_12_03_0017_audit_and_notifications': auditAndNotifications,
  '2026_12_03_0021g_pause': pause,
  '2026_12_03_0021g_waves': waves,
  '2026_12_03_0021h_device_history': deviceHistory,
  '2026_12_03_0023a_approvals': approvals,
  '2026_12_03_0023b_undo': undo,
  '2026_12_03_0023c_reconciliation': reconciliation,
  '2026_12_03_0023e_sites': sites,
  '2026_12_03_0023f_optimization_group': optimizationGroup,
  '2026_12_03_0023h_bulk_change_names': bulkChangeNames,
  '2026_12_03_0023g_users': users,
  '2026_12_04_0024_crashes_alone': crashesAlone,
  '2026_12_04_0025_devices_in_id_order': devicesInIdOrder,
  '2026_12_04_0026_limiter_takes_several_slots': limiterTakesSeveralSlots,
};

/**
 * Kysely wraps a migration in a transaction only where DDL is transactional by its own account, which
 * it says SQLite's is not. SQLite DDL is transactional, so every migration runs inside one on both.
 */
function atomic(migration: VersionedMigration, capabilities: Capabilities): Migration {
  const inTransaction = (db: AnyDb, step: (tx: AnyDb) => Promise<void>) =>
    db.isTransaction ? step(db) : db.transaction().execute(step);
  return {
    up: (db) => inTransaction(db, (tx) => migration.up(tx, capabilities)),
    down: migration.down ? (db) => inTransaction(db, (tx) => migration.down!(tx, capabilities)) : undefined,
  };
}

export function createMigrator(
  db: AnyDb,
  capabilities: Capabilities,
  extra: Record<string, VersionedMigration> = {},
): Migrator {
  const all = { ...migrations, ...extra };
  return new Migrator({
    db,
    // Work lands from parallel branches, so a migration may arrive after a later-numbered one already ran
    // on a database; each is independent of its neighbours' order, and runs once all the same.
    allowUnorderedMigrations: true,
    provider: {
      getMigrations: async () =>
        Object.fromEntries(
          Object.entries(all).map(([name, migration]) => [name, atomic(migration, capabilities)]),
        ),
    },
  });
}

export class MigrationError extends Error {}

function assertSucceeded(result: MigrationResultSet): void {
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new MigrationError(`Migration ${failed} failed: ${String(result.error)}`, { cause: result.error });
  }
}

export async function migrateToLatest(db: AnyDb, capabilities: Capabilities): Promise<string[]> {
  const result = await createMigrator(db, capabilities).migrateToLatest();
  assertSucceeded(result);
  return (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
