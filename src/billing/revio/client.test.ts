import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRevioError, revioCredentialsSchema, revioRetryAfter } from './client.ts';

describe('Rev.io client: reading refusals', () => {
  it('reads the gateway envelope, Rev.io’s array and a single item', () => {
    assert.deepEqual(
      parseRevioError(401, { statusCode: 401, message: 'Access denied due to missing subscription key.' }),
      { message: 'Access denied due to missing subscription key.' },
    );
    assert.deepEqual(parseRevioError(400, [{ id: null, ok: false, error: 'BadRequest', message: 'no' }]), {
      code: 'BadRequest',
      message: 'no',
    });
    assert.deepEqual(parseRevioError(404, { error: 'NotFound', message: 'gone' }), {
      code: 'NotFound',
      message: 'gone',
    });
  });

  it('takes the wait from either throttle sentence, on 429 and 503 only', () => {
    const wait = (status: number, message: string) => revioRetryAfter(status, undefined, { message });
    assert.equal(wait(429, 'Rate limit is exceeded. Try again in 5 seconds.'), 5_000);
    assert.equal(wait(429, 'Too many requests. Please wait 3 seconds and try again.'), 3_000);
    assert.equal(wait(503, 'Try again in 1.5 seconds'), 1_500);
    assert.equal(wait(429, 'Slow down'), undefined);
    assert.equal(wait(400, 'Try again in 5 seconds'), undefined);
  });

  it('needs the subscription key beside the Basic credentials', () => {
    const base = { username: 'ops@acme', password: 'x' };
    assert.equal(revioCredentialsSchema.safeParse(base).success, false);
    assert.equal(revioCredentialsSchema.safeParse({ ...base, subscriptionKey: 'k' }).success, true);
  });
});
