import { notFound } from '../core/errors.ts';
import type { Capabilities, Db } from '../db/database.ts';
import { page } from '../shared/paging.ts';
import { type AuditEntry, type AuditFilter, auditRepository } from './audit-repository.ts';
import { type ChainVerification, verifyChain } from './audit-verifier.ts';

/** The tenant-wide audit log as the API reads it: entries by who, what and when; one entry whole; the proof. */
export class AuditLog {
  readonly #db: Db;
  readonly #capabilities: Capabilities;

  constructor(db: Db, capabilities: Capabilities) {
    this.#db = db;
    this.#capabilities = capabilities;
  }

  async list(
    tenantId: string,
    filter: Omit<AuditFilter, 'afterId'> & { cursor?: string },
  ): Promise<{ items: AuditEntry[]; nextCursor: string | null }> {
    const rows = await auditRepository(this.#db).listForTenant(tenantId, {
      ...filter,
      afterId: filter.cursor === undefined ? undefined : Number(filter.cursor),
      limit: filter.limit + 1,
    });
    return page(
      rows,
      filter.limit,
      (entry) => entry,
      (entry) => entry.id,
    );
  }

  async get(tenantId: string, id: number): Promise<AuditEntry> {
    const entry = await auditRepository(this.#db).find(tenantId, id);
    if (!entry) throw notFound('Audit entry');
    return entry;
  }

  verify(tenantId: string): Promise<ChainVerification> {
    return verifyChain(this.#db, this.#capabilities, tenantId);
  }
}
