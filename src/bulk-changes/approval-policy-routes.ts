import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type KeyAuth, principalOf, requireRole } from '../accounts/auth.ts';
import { actorOf } from '../audit/actor.ts';
import { type ApprovalPolicies, approvalPolicyViewSchema } from './approval-policy.ts';

export interface ApprovalPolicyRoutesOptions {
  auth: KeyAuth;
  approvalPolicies: ApprovalPolicies;
}

const policyBody = z.object({
  /** Destructive changes of more lines than this wait for approval; 0: every one; null: off. */
  approvalAboveLines: z.number().int().min(0).max(100_000_000).nullable(),
  /** At most this many destructive line changes an hour; null: no cap. */
  destructiveLinesPerHour: z.number().int().min(1).max(100_000_000).nullable(),
});

/** The tenant's guardrail policy (docs/guardrails.md): approvals and the blast-radius cap, admin only. */
export const approvalPolicyRoutes: FastifyPluginAsyncZod<ApprovalPolicyRoutesOptions> = async (
  app,
  { auth, approvalPolicies },
) => {
  const admin = requireRole(auth, 'admin');

  app.get(
    '/approval-policy',
    {
      onRequest: admin,
      schema: {
        tags: ['guardrails'],
        summary: "The tenant's approval policy and blast-radius cap (null: off, the default)",
        response: { 200: approvalPolicyViewSchema },
      },
    },
    async (request) => approvalPolicies.get(principalOf(request).tenantId),
  );

  app.put(
    '/approval-policy',
    {
      onRequest: admin,
      schema: {
        tags: ['guardrails'],
        summary:
          'Set the approval policy (destructive changes above approvalAboveLines lines wait for an approver) and the blast-radius cap (destructiveLinesPerHour)',
        body: policyBody,
        response: { 200: approvalPolicyViewSchema },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return approvalPolicies.set(principal.tenantId, request.body, actorOf(principal));
    },
  );
};
