import path from 'node:path';
import type { Logger } from 'pino';
import { z } from 'zod';
import { accountsRepository } from '../accounts/accounts-repository.ts';
import { cutAuditPrefix, type ExportedPrefix, exportAuditPrefix } from '../audit/audit-archive.ts';
import type { Capabilities, Db } from '../db/database.ts';
import { defineTask } from '../queue/index.ts';
import { JsonLinesFile } from '../shared/json-lines-file.ts';
import { bulkChangesRepository } from './bulk-changes-repository.ts';
import { eventsRepository } from './events-repository.ts';
import { retentionRepository } from './retention-repository.ts';

/** The retention sweep, run periodically when a retention period is configured. */
export const retentionTask = defineTask({
  name: 'retention.sweep',
  payload: z.object({}),
  key: () => 'retention-sweep',
  maxAttempts: 1_000,
});

const DAY_MS = 86_400_000;
const PAGE = 1_000;
/** Bulk changes exported per tenant and run; the next run takes the rest. */
const CHANGES_PER_RUN = 1_000;

export interface TenantSweep {
  tenantId: string;
  /** The export, when anything was old enough. */
  file: string | null;
  bulkChanges: number;
  rows: number;
  auditEntries: number;
  /** The chain's new origin after the cut. */
  anchor?: { seq: number; hash: string };
  /** Why the audit prefix was not cut (it does not verify). */
  broken?: string;
}

export interface RetentionDeps {
  db: Db;
  capabilities: Capabilities;
  retentionDays: number;
  exportDir: string;
  logger: Logger;
}

/**
 * Retention (ADR 0022): what is older than the configured period is exported as JSON lines, one file
 * per tenant and run (stored records as they are: times in epoch ms, audit entries with the columns
 * their hashes cover), the file synced to disk, and only then pruned: the rows of bulk changes that
 * ended before the cut (the bulk change and its counts stay), and the tenant's audit entries before it,
 * the chain anchored at the last one removed. Outbox events that old are removed without export.
 */
export class Retention {
  readonly #deps: RetentionDeps;

  constructor(deps: RetentionDeps) {
    this.#deps = deps;
  }

  /** Returns the cut-off, and what each tenant had exported and pruned. */
  async sweep(now = Date.now()): Promise<{ cutoff: number; tenants: TenantSweep[]; events: number }> {
    const cutoff = now - this.#deps.retentionDays * DAY_MS;
    const tenants: TenantSweep[] = [];
    for (const tenant of await accountsRepository(this.#deps.db).listTenants())
      tenants.push(await this.#sweepTenant(tenant.id, cutoff, now));
    const events = await eventsRepository(this.#deps.db).prune(cutoff);
    const swept = tenants.filter((tenant) => tenant.file);
    if (swept.length > 0 || events > 0)
      this.#deps.logger.info(
        { cutoff: new Date(cutoff).toISOString(), tenants: swept, events },
        'retention sweep',
      );
    for (const tenant of tenants.filter((tenant) => tenant.broken))
      this.#deps.logger.error(
        { tenantId: tenant.tenantId, broken: tenant.broken },
        'audit chain does not verify: not cut',
      );
    return { cutoff, tenants, events };
  }

  async #sweepTenant(tenantId: string, cutoff: number, now: number): Promise<TenantSweep> {
    const { db, capabilities } = this.#deps;
    const file = new JsonLinesFile(
      path.join(
        this.#deps.exportDir,
        tenantId,
        `retention-${new Date(now).toISOString().replaceAll(':', '-')}.jsonl`,
      ),
    );
    const sweep: TenantSweep = { tenantId, file: null, bulkChanges: 0, rows: 0, auditEntries: 0 };
    const header = {
      kind: 'export',
      tenantId,
      cutoff: new Date(cutoff).toISOString(),
      at: new Date(now).toISOString(),
    };
    const write = (records: unknown[]) => file.write(file.lines === 0 ? [header, ...records] : records);
    const exportedChanges: string[] = [];
    let prefix: ExportedPrefix | undefined;
    try {
      const repository = bulkChangesRepository(db);
      for (const id of await retentionRepository(db).endedWithRows(tenantId, cutoff, CHANGES_PER_RUN)) {
        const change = await repository.findById(id);
        if (!change) continue;
        await write([{ kind: 'bulk_change', ...change }]);
        for (let afterRow: number | undefined; ; ) {
          const rows = await repository.listChanges(id, { afterRow, limit: PAGE });
          if (rows.length === 0) break;
          await write(rows.map((row) => ({ kind: 'row', ...row })));
          sweep.rows += rows.length;
          afterRow = rows[rows.length - 1].rowNumber;
        }
        exportedChanges.push(id);
      }
      const exported = await exportAuditPrefix(
        db,
        capabilities,
        tenantId,
        cutoff,
        async (entries, origin) => {
          if (sweep.auditEntries === 0) await write([{ kind: 'chain_origin', ...origin }]);
          await write(entries.map((entry) => ({ kind: 'audit_entry', ...entry })));
          sweep.auditEntries += entries.length;
        },
      );
      if (exported && 'broken' in exported) sweep.broken = exported.broken;
      else if (exported) {
        await write([{ kind: 'chain_anchor', ...exported.anchor }]);
        prefix = exported;
      }
    } finally {
      await file.close();
    }
    if (file.lines === 0) return sweep;
    // The file is on disk: what it holds may go.
    for (const id of exportedChanges) await retentionRepository(db).deleteRows(id);
    sweep.bulkChanges = exportedChanges.length;
    if (prefix && (await cutAuditPrefix(db, capabilities, tenantId, prefix, now)))
      sweep.anchor = prefix.anchor;
    return { ...sweep, file: file.path };
  }
}
