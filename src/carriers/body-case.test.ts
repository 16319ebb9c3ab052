import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { incoming, outgoing, recase } from './body-case.ts';

describe('body casing', () => {
  it('recases every key, deep, and no value', () => {
    assert.deepEqual(recase({ entries: [{ eid: 'a', planUuid: 'B' }], total: 1 }, 'pascal'), {
      Entries: [{ Eid: 'a', PlanUuid: 'B' }],
      Total: 1,
    });
    assert.deepEqual(recase({ Entries: ['X'] }, 'camel'), { entries: ['X'] });
  });

  it('sends camelCase as it is and reads either case for a camelCase schema', () => {
    const body = { packageTypeId: 'P1' };
    assert.equal(outgoing(body, 'camel'), body);
    const schema = z.object({ packageId: z.string() });
    assert.deepEqual(incoming(schema, 'pascal').parse({ PackageId: 'x' }), { packageId: 'x' });
    assert.equal(incoming(schema, 'camel').safeParse({ PackageId: 'x' }).success, false);
  });
});
