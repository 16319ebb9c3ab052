import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isCarrierError } from '../../core/carrier-error.ts';
import { operationUrl } from './client.ts';

const base = new URL('https://integrationapi.example.net/');

describe('Teal operation links', () => {
  it('reads a link on the account’s host there, on the account’s scheme', () => {
    assert.equal(
      operationUrl('http://integrationapi.example.net/api/v1/operations/7?x=1', base, ['teal.global']),
      'https://integrationapi.example.net/api/v1/operations/7?x=1',
    );
  });

  it('follows a link on Teal’s own domain, over https, on that host', () => {
    assert.equal(
      operationUrl('http://integrationapi.teal.global/api/v1/operations/7', base, ['teal.global']),
      'https://integrationapi.teal.global/api/v1/operations/7',
    );
    assert.equal(operationUrl('https://teal.global/op/1', base, ['teal.global']), 'https://teal.global/op/1');
  });

  it('refuses a link anywhere else, and a look-alike of Teal’s domain', () => {
    for (const href of [
      'https://evil.example/op/1',
      'https://teal.global.evil.example/op/1',
      'https://notteal.global/op',
    ]) {
      assert.throws(
        () => operationUrl(href, base, ['teal.global']),
        (error) => isCarrierError(error) && error.carrierCode === 'FOREIGN_OPERATION_LINK',
        href,
      );
    }
  });
});
