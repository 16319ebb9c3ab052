import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestDatabase, type TestDatabase, testDialects } from '../../test/support/databases.ts';
import { inTransaction, openPostgres } from '../db/database.ts';
import { AuditBuffer } from './audit-buffer.ts';
import { auditEntryForEvent } from './audit-entry.ts';

const entry = (action: string) =>
  auditEntryForEvent(
    { tenantId: 't1', bulkChangeId: 'b1', deviceChangeId: null, carrierAccountId: null, actor: 'engine' },
    { action, outcome: 'ok', detail: {} },
  );

/** The test database's URL, with the credentials of TEST_DATABASE_URL (`location` leaves them out). */
const sameDatabase = (location: string) => {
  const url = new URL(process.env.TEST_DATABASE_URL!);
  url.pathname = new URL(location).pathname;
  return url.toString();
};

for (const dialect of testDialects) {
  describe(`the audit buffer before a commit, on ${dialect}`, () => {
    let handle: TestDatabase;
    before(async () => {
      handle = await createTestDatabase(dialect);
    });
    after(() => handle.drop());
    beforeEach(() => handle.db.deleteFrom('audit_entries').execute());

    const count = async () =>
      Number(
        (
          await handle.db
            .selectFrom('audit_entries')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const buffer = (maxEntries: number, maxDelayMs: number) =>
      new AuditBuffer(handle.db, { maxEntries, maxDelayMs, onError: (error) => assert.fail(String(error)) });

    it('settles the batches under way, and leaves what is pending to the commit', async () => {
      const audit = buffer(2, 60_000);
      audit.add(entry('a'));
      audit.add(entry('b')); // a full batch: written at once, on a connection of its own
      audit.add(entry('c'));
      await audit.settle();
      assert.equal(await count(), 2, 'the batch under way is written');
      await sleep(30);
      assert.equal(await count(), 2, 'the pending entry waits for the commit');
      await inTransaction(handle.db, (tx) => audit.drainInto(tx));
      assert.equal(await count(), 3);
    });

    it('starts no write of its own once settled, so a commit holding the last connection never waits on one', {
      timeout: 20_000,
    }, async () => {
      // One connection: a write the timer started inside the transaction would wait for the very
      // connection the transaction holds while the transaction waits for it.
      const single = dialect === 'postgres' ? openPostgres(sameDatabase(handle.location), 1) : undefined;
      const db = single?.db ?? handle.db;
      try {
        const audit = new AuditBuffer(db, { maxEntries: 100, maxDelayMs: 5, onError: () => {} });
        audit.add(entry('a'));
        await audit.settle();
        await inTransaction(db, async (tx) => {
          await sleep(50); // the commit's lock and statements, past the buffer's delay
          await audit.drainInto(tx);
        });
        assert.equal(await count(), 1);
      } finally {
        await single?.close();
      }
    });
  });
}
