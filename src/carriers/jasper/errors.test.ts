import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { outcomeFromError } from '../../core/outcomes.ts';
import { errorForStatus } from '../http/classify.ts';
import { classifyJasperError, jasperCodes, parseJasperError } from './errors.ts';
import { searchWindows } from './inventory.ts';

const reading = { parseError: parseJasperError, classify: classifyJasperError };
const answer = (status: number, errorCode: string) => ({
  status,
  headers: {},
  body: { errorMessage: 'Rate Limit Exceeded', errorCode },
});

describe('Jasper errors', () => {
  it('retries a rate-limit refusal with backoff whatever HTTP status carries it', () => {
    for (const status of [400, 403, 429, 500]) {
      const error = errorForStatus(
        'jasper put_device',
        answer(status, jasperCodes.rateLimitExceeded.code),
        reading,
      );
      assert.equal(error.kind, 'transient', `HTTP ${status}`);
      const outcome = outcomeFromError(error);
      assert.equal(outcome.kind, 'retry', `HTTP ${status}: the row goes back to the queue`);
    }
  });

  it('fails a row on other refusals, with the code kept', () => {
    const error = errorForStatus('jasper put_device', answer(400, jasperCodes.unknownField.code), reading);
    assert.deepEqual([error.kind, error.carrierCode], ['rejected', '10000028']);
  });
});

describe('Jasper inventory windows', () => {
  it('covers the time from since to now in windows of at most a year, end to start', () => {
    const since = Date.parse('2020-01-01T00:00:00Z');
    const now = Date.parse('2022-06-01T12:00:00Z');
    const windows = searchWindows(since, now);
    assert.equal(windows.length, 3);
    assert.equal(windows[0].modifiedSince, '2020-01-01T00:00:00+00:00');
    assert.equal(windows.at(-1)?.modifiedTill, '2022-06-01T12:00:00+00:00');
    for (const [index, window] of windows.entries()) {
      const span = Date.parse(window.modifiedTill) - Date.parse(window.modifiedSince);
      assert.ok(span <= 365 * 86_400_000, `window ${index} is at most a year`);
      if (index > 0) assert.equal(window.modifiedSince, windows[index - 1].modifiedTill, 'no gap');
    }
  });
});
