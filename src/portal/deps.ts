import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { CarrierAccounts } from '../accounts/carrier-accounts.ts';
import type { BulkChanges } from '../bulk-changes/bulk-changes-service.ts';
import type { AccountHealth } from '../carriers/account-health.ts';
import type { Db, Dialect } from '../db/database.ts';
import type { ChangeCatalog } from './change-catalog.ts';
import type { PortalRepository } from './portal-repository.ts';
import type { PreviewStash } from './preview-stash.ts';
import type { SessionStore } from './session.ts';

/** The Fastify instance pages register on: zod schemas type their params, queries and bodies. */
export type PortalApp = Parameters<FastifyPluginAsyncZod>[0];

/** What the pages share: the API's service layer plus the portal's own state. */
export interface PortalDeps {
  db: Db;
  dialect: Dialect;
  accounts: CarrierAccounts;
  bulkChanges: BulkChanges;
  catalog: ChangeCatalog;
  health: AccountHealth;
  maxUploadBytes: number;
  sessions: SessionStore;
  previews: PreviewStash;
  queries: PortalRepository;
}
