import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type KeyAuth, principalOf, requireRole } from '../accounts/auth.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { AuditEntry } from '../audit/audit-repository.ts';
import { chainVerificationSchema } from '../audit/audit-verifier.ts';
import { isoTime, pageOf } from '../shared/answers.ts';
import { NUMERIC_CURSOR } from '../shared/paging.ts';
import { toIso } from '../shared/time.ts';

/** An audit entry as the tenant's log shows it. */
const auditEntrySchema = z.object({
  id: z.string(),
  at: isoTime,
  actor: z.string().describe('Who acted, as the audit log names actors (`key:<id>`, `engine`, …)'),
  action: z.string(),
  system: z.string().describe('The system called, or that called'),
  outcome: z.string(),
  bulkChangeId: z.string().nullable(),
  changeId: z.string().nullable(),
  carrierAccountId: z.string().nullable(),
  httpStatus: z.number().int().nullable(),
  durationMs: z.number().nullable(),
  request: z.unknown().describe('As sent, secrets redacted'),
  response: z.unknown(),
  seq: z.number().int().nullable().describe("Its place in the tenant's tamper-evident chain, once sealed"),
});

const entryView = (entry: AuditEntry): z.infer<typeof auditEntrySchema> => ({
  id: String(entry.id),
  at: toIso(entry.at)!,
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
        response: { 200: pageOf(auditEntrySchema) },
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
        response: { 200: chainVerificationSchema },
      },
    },
    async (request) => audit.verify(principalOf(request).tenantId),
  );

  app.get(
    '/audit/:id',
    {
      onRequest: viewer,
      schema: {
        tags,
        params: z.object({ id: z.string().regex(/^\d{1,15}$/) }),
        response: { 200: auditEntrySchema },
      },
    },
    async (request) => entryView(await audit.get(principalOf(request).tenantId, Number(request.params.id))),
  );
};
