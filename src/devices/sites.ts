import { z } from 'zod';
import type { Actor } from '../audit/actor.ts';
import { auditRepository } from '../audit/audit-repository.ts';
import { auditEntryForChange, changedFields } from '../audit/change-entry.ts';
import { AppError, conflict, notFound } from '../core/errors.ts';
import { type Db, inTransaction, isUniqueViolation, type Tx } from '../db/database.ts';
import { isoTime } from '../shared/answers.ts';
import { newId } from '../shared/ids.ts';
import { toIso } from '../shared/time.ts';
import { type SiteInput, type StoredSite, sitesRepository } from './sites-repository.ts';

/** A site as the API and the portal show it. */
export const siteViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  contactFirstName: z.string().nullable(),
  contactLastName: z.string().nullable(),
  addressLine1: z.string(),
  addressLine2: z.string().nullable(),
  city: z.string(),
  state: z.string(),
  zipCode: z.string(),
  country: z.string(),
  isDefault: z.boolean().describe('Activated lines without a site are put here'),
  createdAt: isoTime,
  updatedAt: isoTime,
});
export type SiteView = z.infer<typeof siteViewSchema>;

export const siteView = (site: StoredSite): SiteView => ({
  id: site.id,
  name: site.name,
  contactFirstName: site.contactFirstName,
  contactLastName: site.contactLastName,
  addressLine1: site.addressLine1,
  addressLine2: site.addressLine2,
  city: site.city,
  state: site.state,
  zipCode: site.zipCode,
  country: site.country,
  isDefault: site.isDefault,
  createdAt: toIso(site.createdAt)!,
  updatedAt: toIso(site.updatedAt)!,
});

const nameTaken = (name: string) =>
  conflict('SITE_NAME_TAKEN', `The tenant already has a site named "${name}"`);

const audited = ({ createdAt: _c, updatedAt: _u, tenantId: _t, ...site }: StoredSite) => site;

/**
 * A tenant's site catalog (ADR 0051): where its lines are used. Lines are put at a site by a
 * `site_assignment` change, or at the default site when a change activates them; ThingSpace
 * activations send the site's address as the place of use. Every change is audited.
 */
export class Sites {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  async list(tenantId: string): Promise<SiteView[]> {
    return (await sitesRepository(this.#db).list(tenantId)).map(siteView);
  }

  async #site(tenantId: string, id: string): Promise<StoredSite> {
    const site = await sitesRepository(this.#db).find(tenantId, id);
    if (!site) throw notFound('Site');
    return site;
  }

  async get(tenantId: string, id: string): Promise<SiteView> {
    return siteView(await this.#site(tenantId, id));
  }

  async #checkName(tx: Tx, tenantId: string, name: string, id?: string): Promise<void> {
    const other = await sitesRepository(tx).findByName(tenantId, name);
    if (other && other.id !== id) throw nameTaken(name);
  }

  /** Two requests naming a site alike at once: the database's unique name decides, the loser is told so. */
  async #named<T>(name: string | undefined, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (name !== undefined && isUniqueViolation(error)) throw nameTaken(name);
      throw error;
    }
  }

  async create(tenantId: string, input: SiteInput, actor: Actor): Promise<SiteView> {
    const now = Date.now();
    const site: StoredSite = { ...input, id: newId(now), tenantId, createdAt: now, updatedAt: now };
    await this.#named(input.name, () =>
      inTransaction(this.#db, async (tx) => {
        await this.#checkName(tx, tenantId, input.name);
        await sitesRepository(tx).insert(site);
        if (site.isDefault) await sitesRepository(tx).clearDefault(tenantId, site.id, now);
        await this.#audit(tx, tenantId, actor, 'site.create', { after: audited(site) });
      }),
    );
    return siteView(site);
  }

  async update(tenantId: string, id: string, patch: Partial<SiteInput>, actor: Actor): Promise<SiteView> {
    const before = await this.#site(tenantId, id);
    const now = Date.now();
    await this.#named(patch.name, () =>
      inTransaction(this.#db, async (tx) => {
        if (patch.name !== undefined) await this.#checkName(tx, tenantId, patch.name, id);
        const repository = sitesRepository(tx);
        await repository.update(tenantId, id, patch, now);
        if (patch.isDefault) await repository.clearDefault(tenantId, id, now);
        const after = await repository.find(tenantId, id);
        const changed = after && changedFields(audited(before), audited(after));
        if (changed && Object.keys(changed.after).length > 0)
          await this.#audit(tx, tenantId, actor, 'site.update', changed);
      }),
    );
    return this.get(tenantId, id);
  }

  /** A site lines are still at cannot go: they would point nowhere. */
  async delete(tenantId: string, id: string, actor: Actor): Promise<void> {
    const site = await this.#site(tenantId, id);
    await inTransaction(this.#db, async (tx) => {
      const lines = await sitesRepository(tx).linesAt(tenantId, id);
      if (lines > 0)
        throw new AppError(
          'SITE_IN_USE',
          `${lines} line(s) are at site "${site.name}"; move them with a site_assignment first`,
        );
      await sitesRepository(tx).delete(tenantId, id);
      await this.#audit(tx, tenantId, actor, 'site.delete', { before: audited(site) });
    });
  }

  async #audit(
    tx: Tx,
    tenantId: string,
    actor: Actor,
    action: string,
    change: { before?: Record<string, unknown>; after?: Record<string, unknown> },
  ): Promise<void> {
    await auditRepository(tx).append([auditEntryForChange({ tenantId, actor, action, ...change })]);
  }
}
