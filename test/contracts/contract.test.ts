import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Exchange, uncovered, verifyExchanges } from './contract.ts';
import { thingSpaceContract } from './thingspace.ts';

const exchange = (fields: Partial<Exchange>): Exchange => ({
  method: 'PUT',
  path: '/api/m2m/v1/devices/4G/actions/deviceId',
  query: {},
  headers: { authorization: 'Bearer t', 'vz-m2m-token': 's', 'content-type': 'application/json' },
  body: {
    deviceIds: [{ kind: 'iccid', id: '89148000000800784259' }],
    deviceIdsTo: [{ kind: 'iccid', id: '89148000000800785009' }],
    change4gOption: 'ChangeICCID',
  },
  status: 200,
  responseHeaders: {},
  response: { requestId: 'r-1' },
  ...fields,
});

/** The checker itself: each kind of drift it exists to catch makes it fail. */
describe('contract checking', () => {
  it('passes an exchange on contract', () => {
    const { problems, covered } = verifyExchanges(thingSpaceContract, [exchange({})]);
    assert.deepEqual(problems, []);
    assert.deepEqual([...covered], ['change_identifier']);
  });

  it('catches a field the carrier does not publish, and a missing one', () => {
    const extra = exchange({ body: { ...(exchange({}).body as object), accountName: '0000123456-00001' } });
    const missing = exchange({
      body: { deviceIds: [{ kind: 'iccid', id: '1' }], deviceIdsTo: [{ kind: 'iccid', id: '2' }] },
    });
    const [first] = verifyExchanges(thingSpaceContract, [extra]).problems;
    assert.match(first, /accountName/);
    assert.match(verifyExchanges(thingSpaceContract, [missing]).problems[0], /change4gOption/);
  });

  it('catches a path the carrier does not publish, and an answer off its shapes', () => {
    const oldPath = exchange({ path: '/api/m2m/v1/devices/actions/deviceidentifier' });
    assert.match(verifyExchanges(thingSpaceContract, [oldPath]).problems[0], /no such operation/);
    const v1 = exchange({
      method: 'GET',
      path: '/api/m2m/v1/accounts/0000123456-00001/requests/r-1/status',
      body: undefined,
      response: { requestId: 'r-1', status: 'Success', subrequests: [] },
    });
    assert.match(verifyExchanges(thingSpaceContract, [v1]).problems[0], /simulator answered off contract/);
    const badError = exchange({ status: 400, response: { message: 'nope' } });
    assert.match(
      verifyExchanges(thingSpaceContract, [badError]).problems[0],
      /simulator answered off contract/,
    );
  });

  it('names the client operations no exchange covered', () => {
    const { covered } = verifyExchanges(thingSpaceContract, [exchange({})]);
    assert.ok(uncovered(thingSpaceContract, covered).includes('activate'));
    assert.ok(
      !uncovered(thingSpaceContract, covered).includes('request_status_v1'),
      'not a client operation',
    );
  });
});
