import nodemailer, { type Transporter } from 'nodemailer';
import type { CarrierAccounts } from '../accounts/carrier-accounts.ts';
import { auditRepository } from '../audit/audit-repository.ts';
import type { BulkChanges } from '../bulk-changes/bulk-changes-service.ts';
import type { BulkChangeView } from '../bulk-changes/views.ts';
import type { Db } from '../db/database.ts';
import { notificationSettingsRepository } from './notification-settings-repository.ts';

export interface MailSettings {
  /** `smtp://user:pass@host:587` or `smtps://…`; the transport is nodemailer's. */
  smtpUrl: string;
  from: string;
  /** Where the links in a mail point (the portal and the results). */
  publicUrl: string;
}

/** How the subject and the first line say each end: "completed with errors", "has been cancelled". */
const endings: Record<string, { subject: string; sentence: string }> = {
  completed: { subject: 'completed', sentence: 'has completed' },
  completed_with_errors: { subject: 'completed with errors', sentence: 'has completed with errors' },
  failed: { subject: 'failed', sentence: 'has failed' },
  cancelled: { subject: 'cancelled', sentence: 'has been cancelled' },
};

/** A finished bulk change as a plain-text mail: the summary, and links to its page and its results. */
export function completionMail(change: BulkChangeView, accountName: string, publicUrl: string) {
  const base = publicUrl.replace(/\/$/, '');
  const { counts } = change;
  const ending = endings[change.status] ?? { subject: change.status, sentence: `is ${change.status}` };
  const failedPart =
    counts.failed > 0 ? `: ${counts.failed} of ${counts.total} rows failed` : `: ${counts.total} rows`;
  return {
    subject: `Bulk change ${ending.subject}${failedPart} (${change.changeType} on ${accountName})`,
    text: [
      `Bulk change ${change.id} ${ending.sentence}.`,
      '',
      `Change type:      ${change.changeType}`,
      `Carrier account:  ${accountName} (${change.carrier})`,
      `Created:          ${change.createdAt} by ${change.createdBy}`,
      `Finished:         ${change.completedAt ?? ''}`,
      ...(change.failureReason ? [`Why it failed:    ${change.failureReason}`] : []),
      '',
      `Rows:             ${counts.total}`,
      `  succeeded:      ${counts.succeeded}`,
      `  failed:         ${counts.failed}`,
      `  cancelled:      ${counts.cancelled}`,
      '',
      `Results:          ${base}/portal/bulk-changes/${change.id}`,
      `Results (CSV):    ${base}/api/v1/bulk-changes/${change.id}/results.csv`,
      '',
      '-- ',
      'bulkchange. You receive this because your address is set for this bulk change or its tenant.',
    ].join('\n'),
  };
}

export interface CompletionMailerDeps {
  db: Db;
  bulkChanges: BulkChanges;
  accounts: CarrierAccounts;
  settings: MailSettings;
}

/**
 * The completion e-mail (ADR 0024), sent through SMTP with nodemailer when `BULKCHANGE_SMTP_URL` is set:
 * to the bulk change's own addresses and the tenant's. Each sending is audited; a failure is retried by
 * the queue (the task's attempts).
 */
export class CompletionMailer {
  readonly #deps: CompletionMailerDeps;
  readonly #transport: Transporter;

  constructor(deps: CompletionMailerDeps) {
    this.#deps = deps;
    this.#transport = nodemailer.createTransport(deps.settings.smtpUrl);
  }

  async send(tenantId: string, bulkChangeId: string): Promise<void> {
    const { db, bulkChanges, accounts, settings } = this.#deps;
    const change = await bulkChanges.get(tenantId, bulkChangeId);
    const recipients = [
      ...new Set([...change.notifyEmails, ...(await notificationSettingsRepository(db).emailsOf(tenantId))]),
    ];
    if (recipients.length === 0) return;
    const account = await accounts.get(tenantId, change.carrierAccountId);
    const mail = completionMail(change, account.name, settings.publicUrl);
    const started = performance.now();
    const at = Date.now();
    let response: Record<string, unknown>;
    let failure: unknown;
    try {
      const info = await this.#transport.sendMail({ from: settings.from, to: recipients, ...mail });
      response = { messageId: info.messageId, accepted: info.accepted, rejected: info.rejected };
    } catch (error) {
      failure = error;
      response = { error: error instanceof Error ? error.message : String(error) };
    }
    await auditRepository(db).append([
      {
        tenant_id: tenantId,
        bulk_change_id: bulkChangeId,
        device_change_id: null,
        carrier_account_id: change.carrierAccountId,
        at,
        actor: 'notifications',
        action: 'email.send',
        system: 'smtp',
        request: JSON.stringify({ to: recipients, subject: mail.subject }),
        response: JSON.stringify(response),
        http_status: null,
        duration_ms: Math.round(performance.now() - started),
        outcome: failure === undefined ? 'success' : 'transient',
      },
    ]);
    if (failure !== undefined) throw failure;
  }

  close(): void {
    this.#transport.close();
  }
}
