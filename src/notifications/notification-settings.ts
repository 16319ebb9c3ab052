import { z } from 'zod';
import type { Actor } from '../audit/actor.ts';
import { auditRepository } from '../audit/audit-repository.ts';
import { auditEntryForChange } from '../audit/change-entry.ts';
import { type Db, inTransaction } from '../db/database.ts';
import { notificationSettingsRepository } from './notification-settings-repository.ts';

/** The tenant's notification settings as the API shows them. */
export const notificationSettingsSchema = z.object({
  emails: z.array(z.string()).describe('Told by e-mail when any of the tenant’s bulk changes ends'),
  emailEnabled: z.boolean().describe('Whether this deployment sends e-mail at all'),
});

/** A tenant's notification settings: the addresses told by e-mail when any of its bulk changes ends. */
export class NotificationSettings {
  readonly #db: Db;
  /** Whether this deployment sends e-mail at all (`BULKCHANGE_SMTP_URL`), shown beside the addresses. */
  readonly emailEnabled: boolean;

  constructor(db: Db, emailEnabled: boolean) {
    this.#db = db;
    this.emailEnabled = emailEnabled;
  }

  async get(tenantId: string): Promise<z.infer<typeof notificationSettingsSchema>> {
    return {
      emails: await notificationSettingsRepository(this.#db).emailsOf(tenantId),
      emailEnabled: this.emailEnabled,
    };
  }

  async setEmails(
    tenantId: string,
    emails: string[],
    actor: Actor,
  ): Promise<{ emails: string[]; emailEnabled: boolean }> {
    const unique = [...new Set(emails)];
    await inTransaction(this.#db, async (tx) => {
      const settings = notificationSettingsRepository(tx);
      const before = await settings.emailsOf(tenantId);
      await settings.setEmails(tenantId, unique, Date.now());
      await auditRepository(tx).append([
        auditEntryForChange({
          tenantId,
          actor,
          action: 'notification_settings.update',
          before: { emails: before },
          after: { emails: unique },
        }),
      ]);
    });
    return this.get(tenantId);
  }
}
