import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { byIccid, submitChange } from './support/bulk-changes.ts';
import { testDialects } from './support/databases.ts';
import { waitUntil } from './support/processes.ts';
import { jasperFixture, startTestService, type TestService, waitForFinish } from './support/service.ts';
import { SmtpSink } from './support/smtp-sink.ts';

for (const dialect of testDialects) {
  describe(`completion e-mail on ${dialect}`, () => {
    let test: TestService;
    const smtp = new SmtpSink();
    before(async () => {
      await smtp.start();
      test = await startTestService(dialect, {
        BULKCHANGE_SMTP_URL: smtp.url,
        BULKCHANGE_MAIL_FROM: 'bulkchange <noreply@bulkchange.test>',
      });
    });
    after(async () => {
      await test.stop();
      await smtp.stop();
    });

    it('mails the summary and the links to the results, to the tenant’s addresses and the change’s own', async () => {
      const settings = await test.api<{ emails: string[]; emailEnabled: boolean }>(
        'PUT',
        '/api/v1/notification-settings',
        {
          body: { emails: ['noc@acme.test'] },
        },
      );
      assert.deepEqual(settings.body, { emails: ['noc@acme.test'], emailEnabled: true });
      const fixture = await jasperFixture(test, { count: 3, unknownToCarrier: 1, prefix: '8901791' });
      const id = await submitChange(
        test,
        fixture.accountId,
        byIccid([...fixture.iccids, ...fixture.unknownToCarrier]),
        'status_update',
        { targetStatus: 'active' },
        { notifyEmails: ['ops-lead@acme.test'] },
      );
      assert.equal((await waitForFinish(test, id)).status, 'completed_with_errors');
      const mail = await waitUntil(
        'the mail',
        async () => smtp.mails.find((item) => item.text.includes(id)),
        20_000,
      );
      assert.deepEqual(mail.to.sort(), ['noc@acme.test', 'ops-lead@acme.test']);
      assert.equal(mail.from, 'noreply@bulkchange.test');
      assert.match(
        mail.subject,
        /^Bulk change completed with errors: 1 of 4 rows failed \(status_update on /,
      );
      assert.ok(mail.text.startsWith(`Bulk change ${id} has completed with errors.\n`), mail.text);
      assert.match(mail.text, /Rows: +4\n +succeeded: +3\n +failed: +1\n/);
      assert.ok(mail.text.includes(`${test.url}/portal/bulk-changes/${id}`));
      assert.ok(mail.text.includes(`${test.url}/api/v1/bulk-changes/${id}/results.csv`));
      const audit = await test.api<{
        items: Array<{ action: string; outcome: string; request: { to: string[] } }>;
      }>('GET', `/api/v1/audit?action=email.send&bulkChangeId=${id}`);
      assert.equal(audit.body.items.length, 1);
      assert.equal(audit.body.items[0].outcome, 'success');
    });

    it('mails nobody when no address is set', async () => {
      await test.api('PUT', '/api/v1/notification-settings', { body: { emails: [] } });
      const fixture = await jasperFixture(test, { count: 1, prefix: '8901792' });
      const id = await submitChange(test, fixture.accountId, byIccid(fixture.iccids), 'status_update', {
        targetStatus: 'active',
      });
      assert.equal((await waitForFinish(test, id)).status, 'completed');
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      assert.ok(!smtp.mails.some((item) => item.text.includes(id)));
      const refused = await test.api('PUT', '/api/v1/notification-settings', {
        body: { emails: ['not-an-address'] },
      });
      assert.equal(refused.status, 422);
    });
  });
}
