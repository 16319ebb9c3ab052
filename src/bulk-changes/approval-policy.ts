import type { Actor } from '../audit/actor.ts';
import { auditRepository } from '../audit/audit-repository.ts';
import { auditEntryForChange } from '../audit/change-entry.ts';
import { type Db, inTransaction } from '../db/database.ts';
import { toIso } from '../shared/time.ts';
import { type ApprovalPolicy, approvalPolicyRepository } from './approval-policy-repository.ts';

/** A policy as the API and the portal show it. */
export const approvalPolicyView = (policy: ApprovalPolicy) => ({
  approvalAboveLines: policy.approvalAboveLines,
  destructiveLinesPerHour: policy.destructiveLinesPerHour,
  updatedAt: toIso(policy.updatedAt),
});
export type ApprovalPolicyView = ReturnType<typeof approvalPolicyView>;

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
