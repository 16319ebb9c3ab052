import { z } from 'zod';
import type { Actor } from '../audit/actor.ts';
import { auditRepository } from '../audit/audit-repository.ts';
import { auditEntryForChange } from '../audit/change-entry.ts';
import { type Db, inTransaction } from '../db/database.ts';
import { isoTime } from '../shared/answers.ts';
import { toIso } from '../shared/time.ts';
import { type ApprovalPolicy, approvalPolicyRepository } from './approval-policy-repository.ts';

/** A policy as the API and the portal show it. */
export const approvalPolicyViewSchema = z.object({
  approvalAboveLines: z
    .number()
    .int()
    .nullable()
    .describe('Destructive changes of more lines wait for approval; 0: every one; null: off'),
  destructiveLinesPerHour: z
    .number()
    .int()
    .nullable()
    .describe('At most this many destructive line changes an hour; null: no cap'),
  updatedAt: isoTime.nullable(),
});
export type ApprovalPolicyView = z.infer<typeof approvalPolicyViewSchema>;

export const approvalPolicyView = (policy: ApprovalPolicy): ApprovalPolicyView => ({
  approvalAboveLines: policy.approvalAboveLines,
  destructiveLinesPerHour: policy.destructiveLinesPerHour,
  updatedAt: toIso(policy.updatedAt),
});

/**
 * A tenant's guardrail policy (docs/guardrails.md): which destructive changes wait for a second
 * person's approval, and how many destructive line changes an hour it allows. Every change is audited.
 */
export class ApprovalPolicies {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  async get(tenantId: string): Promise<ApprovalPolicyView> {
    return approvalPolicyView(await approvalPolicyRepository(this.#db).find(tenantId));
  }

  async set(
    tenantId: string,
    policy: Pick<ApprovalPolicy, 'approvalAboveLines' | 'destructiveLinesPerHour'>,
    actor: Actor,
  ): Promise<ApprovalPolicyView> {
    await inTransaction(this.#db, async (tx) => {
      const policies = approvalPolicyRepository(tx);
      const before = await policies.find(tenantId);
      const at = Date.now();
      await policies.save(tenantId, policy, at);
      await auditRepository(tx).append([
        auditEntryForChange({
          tenantId,
          actor,
          action: 'approval_policy.update',
          before: {
            approvalAboveLines: before.approvalAboveLines,
            destructiveLinesPerHour: before.destructiveLinesPerHour,
          },
          after: policy,
          at,
        }),
      ]);
    });
    return this.get(tenantId);
  }
}
