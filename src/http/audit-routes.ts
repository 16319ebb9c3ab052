import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type KeyAuth, principalOf, requireRole } from '../accounts/auth.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { AuditEntry } from '../audit/audit-repository.ts';
import { NUMERIC_CURSOR } from '../shared/paging.ts';
import { toIso } from '../shared/time.ts';

const entryView = (entry: AuditEntry) => ({
  id: String(entry.id),
  at: toIso(entry.at),
  actor: entry.actor,
  action: entry.action,
  system: entry.system,
  outcome: entry.outcome,
  bulkChangeId: entry.bulkChangeId,
  changeId: entry.deviceChangeId,
  carrierAccountId: entry.carrierAccountId,
  httpStatus: entry.httpStatus,
  durationMs: entry.durationMs,
  request: entry.request,
  response: entry.response,
  seq: entry.seq,
});

/**
 * The tenant's audit log (API §7): entries by who, what and since when; one entry whole (a batch
 * call with every line it carried); and the proof that the sealed log is unchanged.
 */
export const auditRoutes: FastifyPluginAsyncZod<{ auth: KeyAuth; audit: AuditLog }> = async (
  app,
  { auth, audit },
) => {
  const viewer = requireRole(auth, 'viewer');
  const admin = requireRole(auth, 'admin');
  const tags = ['audit'];

  app.get(
    '/audit',
    {
      onRequest: viewer,
      schema: {
        tags,
        summary: "The tenant's audit entries, oldest first",
        querystring: z.object({
          actor: z.string().max(200).optional(),
          action: z.string().max(200).optional(),
          since: z.iso.datetime({ offset: true }).optional(),
          bulkChangeId: z.string().max(100).optional(),
          cursor: z.string().regex(NUMERIC_CURSOR, 'an entry id').optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
        }),
      },
    },
    async (request) => {
      const { since, ...filter } = request.query;
      const listed = await audit.list(principalOf(request).tenantId, {
        ...filter,
        since: since === undefined ? undefined : Date.parse(since),
      });
      return { items: listed.items.map(entryView), nextCursor: listed.nextCursor };
    },
  );

  app.get(
    '/audit/verify',
    {
      onRequest: admin,
      schema: {
        tags,
        summary: "Recomputes the tenant's hash chain: ok, or the first entry that was changed or removed",
      },
    },
    async (request) => audit.verify(principalOf(request).tenantId),
  );

  app.get(
    '/audit/:id',
    { onRequest: viewer, schema: { tags, params: z.object({ id: z.string().regex(/^\d{1,15}$/) }) } },
    async (request) => entryView(await audit.get(principalOf(request).tenantId, Number(request.params.id))),
  );
};
