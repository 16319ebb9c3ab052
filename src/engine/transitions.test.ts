import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { CarrierLimits, RowOutcome } from '../core/flow.ts';
import { type ClaimedRow, heldByCircuit, refusedByCircuit, transitionFor } from './transitions.ts';

const limits: CarrierLimits = {
  requestsPerSecond: 5,
  maxConcurrent: 1,
  batchSize: 1,
  retryBudget: 8,
  requestTimeoutMs: 30_000,
  checkIntervalMs: 60_000,
  maxWaitMs: 3_600_000,
};
const now = 1_800_000_000_000;
const row = (fields: Partial<ClaimedRow> = {}): ClaimedRow => ({
  id: 'row-1',
  rowNumber: 1,
  deviceId: 'device-1',
  iccid: '89011700000000000001',
  imei: null,
  msisdn: null,
  eid: null,
  request: {},
  step: 'update_status',
  attempts: 1,
  carrierRequestId: null,
  waitingSince: null,
  result: null,
  reconciliations: 0,
  crashes: 0,
  crashesAlone: 0,
  ...fields,
});
const context = { limits, now, reconciling: false, canReconcile: true };
const transient = (ambiguous: boolean, retryAfterMs?: number): RowOutcome => ({
  kind: 'retry',
  error: { code: 'CARRIER_UNAVAILABLE', message: 'HTTP 503', carrierCode: 'E503' },
  ambiguous,
  ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
});

describe('transitionFor: the row state machine', () => {
  it('ends a row on success or failure, keeping what earlier steps learned', () => {
    const learned = row({ result: { msisdn: '15550001111' } });
    const done = transitionFor(learned, { kind: 'succeeded', result: { ip: '10.0.0.1' } }, context);
    assert.deepEqual(done, {
      id: 'row-1',
      status: 'succeeded',
      error: null,
      nextCheckAt: null,
      result: { msisdn: '15550001111', ip: '10.0.0.1' },
    });
    const failed = transitionFor(
      learned,
      { kind: 'failed', error: { code: 'CARRIER_REJECTED', message: 'no\u0000pe' } },
      context,
    );
    assert.equal(failed.status, 'failed');
    assert.equal(failed.error?.message, 'nope', 'NUL never reaches the database');
  });

  it('queues a row again after a refusal that surely did not reach the carrier, not before Retry-After', () => {
    const next = transitionFor(row({ attempts: 2 }), transient(false, 90_000), context);
    assert.equal(next.status, 'queued');
    assert.ok(next.nextCheckAt! >= now + 90_000);
  });

  it('keeps a row that may have reached the carrier leased, to be read before anything is sent again', () => {
    const next = transitionFor(row({ attempts: 2 }), transient(true), context);
    assert.equal(next.status, 'in_progress');
    assert.ok(next.leaseUntil! > now);
  });

  it('fails a row whose sending budget is spent with RETRIES_EXHAUSTED, once the carrier surely did not act', () => {
    const spent = row({ attempts: limits.retryBudget });
    assert.equal(transitionFor(spent, transient(false), context).error?.code, 'RETRIES_EXHAUSTED');
  });

  it('reads the carrier before giving up on a call that may have reached it, however many attempts it took', () => {
    // The last sending attempt got an unclear answer: the line is read first (its own budget).
    const lastAttempt = row({ attempts: limits.retryBudget });
    assert.equal(transitionFor(lastAttempt, transient(true), context).status, 'in_progress');
    // Reading kept failing: OUTCOME_UNKNOWN once the reading budget is spent, not the sending one.
    const readTooOften = row({ attempts: 1, reconciliations: limits.retryBudget });
    assert.equal(
      transitionFor(readTooOften, transient(false), { ...context, reconciling: true }).error?.code,
      'OUTCOME_UNKNOWN',
    );
    const stillReading = row({ attempts: limits.retryBudget, reconciliations: 1 });
    assert.equal(
      transitionFor(stillReading, transient(false), { ...context, reconciling: true }).status,
      'in_progress',
    );
  });

  it('moves a row on to its next step, waiting when asked, and times it out past the maximum wait', () => {
    const waiting = transitionFor(row(), { kind: 'next', step: 'confirm', waitUntil: now + 60_000 }, context);
    assert.deepEqual(
      {
        status: waiting.status,
        step: waiting.step,
        nextCheckAt: waiting.nextCheckAt,
        since: waiting.waitingSince,
      },
      { status: 'waiting', step: 'confirm', nextCheckAt: now + 60_000, since: now },
    );
    const tooLong = transitionFor(
      row({ waitingSince: now - limits.maxWaitMs }),
      { kind: 'next', step: 'confirm', waitUntil: now + 60_000 },
      context,
    );
    assert.equal(tooLong.error?.code, 'WAIT_TIMEOUT');
    assert.equal(transitionFor(row(), { kind: 'resend' }, context).status, 'queued');
  });

  it('never leaves a row open past its budgets, whatever the outcomes', () => {
    const outcome = fc.oneof(
      fc.constant<RowOutcome>({ kind: 'resend' }),
      fc
        .record({ ambiguous: fc.boolean(), retryAfterMs: fc.option(fc.nat(600_000), { nil: undefined }) })
        .map(({ ambiguous, retryAfterMs }) => transient(ambiguous, retryAfterMs)),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 20 }),
        outcome,
        fc.boolean(),
        fc.boolean(),
        (attempts, result, reconciling, canReconcile) => {
          const next = transitionFor(row({ attempts, reconciliations: attempts }), result, {
            ...context,
            reconciling,
            canReconcile,
          });
          const mayHaveActed = result.kind === 'retry' && result.ambiguous === true && canReconcile;
          if (result.kind === 'retry' && attempts >= limits.retryBudget && (reconciling || !mayHaveActed))
            assert.equal(next.status, 'failed');
          if (next.status === 'queued' && next.nextCheckAt !== null && next.nextCheckAt !== undefined)
            assert.ok(next.nextCheckAt > now);
          if (next.status === 'in_progress') assert.ok(next.leaseUntil! > now);
        },
      ),
    );
  });
});

describe('a call the open circuit refused', () => {
  const refused: RowOutcome = {
    kind: 'retry',
    error: { code: 'CARRIER_UNAVAILABLE', message: 'circuit open', carrierCode: 'CIRCUIT_OPEN' },
    ambiguous: false,
    retryAfterMs: 4_000,
  };

  it('is told apart from a carrier fault', () => {
    assert.equal(refusedByCircuit(refused), true);
    assert.equal(refusedByCircuit(transient(false)), false);
  });

  it('puts a send back in the queue with its attempt given back, and a read back to waiting', () => {
    if (refused.kind !== 'retry') throw new Error('a retry');
    const resumeAt = now + 4_000;
    assert.deepEqual(heldByCircuit(row({ attempts: 3 }), 'queued', refused.error, resumeAt), {
      id: 'row-1',
      status: 'queued',
      nextCheckAt: null,
      error: refused.error,
      refundAttempt: true,
    });
    assert.deepEqual(heldByCircuit(row(), 'waiting', refused.error, resumeAt), {
      id: 'row-1',
      status: 'waiting',
      nextCheckAt: resumeAt,
    });
  });
});
