import type { Executor } from '../db/database.ts';

/** A tenant's guardrail policy (docs/guardrails.md): null fields are off. */
export interface ApprovalPolicy {
  /** Destructive changes of more lines than this wait in `awaiting_approval`. */
  approvalAboveLines: number | null;
  /** At most this many destructive line changes an hour; a change that would send more waits. */
  destructiveLinesPerHour: number | null;
  updatedAt: number | null;
}

/** The default: both off, so nothing waits until an admin says so. */
export const defaultApprovalPolicy: ApprovalPolicy = {
  approvalAboveLines: null,
  destructiveLinesPerHour: null,
  updatedAt: null,
};

const nullableNumber = (value: number | string | null) => (value === null ? null : Number(value));

export function approvalPolicyRepository(db: Executor) {
  return {
    /**
     * The tenant's policy. With `lock` (PostgreSQL), its row is locked to the caller's transaction: the
     * blast-radius cap is counted and spent under it, so workers on many machines never overspend it.
     */
    async find(tenantId: string, options: { lock?: boolean } = {}): Promise<ApprovalPolicy> {
      let query = db.selectFrom('tenant_approval_policies').selectAll().where('tenant_id', '=', tenantId);
      if (options.lock) query = query.forUpdate();
      const row = await query.executeTakeFirst();
      if (!row) return defaultApprovalPolicy;
      return {
        approvalAboveLines: nullableNumber(row.approval_above_lines),
        destructiveLinesPerHour: nullableNumber(row.destructive_lines_per_hour),
        updatedAt: Number(row.updated_at),
      };
    },

    async save(
      tenantId: string,
      policy: Pick<ApprovalPolicy, 'approvalAboveLines' | 'destructiveLinesPerHour'>,
      at: number,
    ): Promise<void> {
      const values = {
        approval_above_lines: policy.approvalAboveLines,
        destructive_lines_per_hour: policy.destructiveLinesPerHour,
        updated_at: at,
      };
      await db
        .insertInto('tenant_approval_policies')
        .values({ tenant_id: tenantId, ...values })
        .onConflict((conflict) => conflict.column('tenant_id').doUpdateSet(values))
        .execute();
    },
  };
}
