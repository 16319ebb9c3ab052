import type { Executor } from '../db/database.ts';

/** A tenant's notification settings: the addresses told by e-mail when any of its bulk changes ends. */
export function notificationSettingsRepository(db: Executor) {
  return {
    async emailsOf(tenantId: string): Promise<string[]> {
      const row = await db
        .selectFrom('tenant_notification_settings')
        .select('emails')
        .where('tenant_id', '=', tenantId)
        .executeTakeFirst();
      return row ? JSON.parse(row.emails) : [];
    },

    async setEmails(tenantId: string, emails: readonly string[], at: number): Promise<void> {
      await db
        .insertInto('tenant_notification_settings')
        .values({ tenant_id: tenantId, emails: JSON.stringify(emails), updated_at: at })
        .onConflict((conflict) =>
          conflict.column('tenant_id').doUpdateSet({ emails: JSON.stringify(emails), updated_at: at }),
        )
        .execute();
    },
  };
}
