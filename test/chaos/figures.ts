import { countBy } from '../support/e2e-stack.ts';
import type { SimCall } from '../support/processes.ts';
import { maxInWindow } from '../support/scale-out.ts';

/** The promises the chaos holds the engine to: each must be zero. */
export interface Figures {
  /**
   * Rows missing from a bulk change, counts that disagree with its rows, rows left open once it ended,
   * and rows said to have succeeded whose line the carrier did not change.
   */
  rowsLost: number;
  /** A carrier effect applied twice to one line: more than one accepted state-changing call for it. */
  duplicates: number;
  /** 5xx answers from our API. */
  serverErrors: number;
  /** Bulk changes not ended within the bound once the faults stopped. */
  stuckChanges: number;
  /** Requests past an account's configured rate, in its busiest second (or minute, for activations). */
  limitOvershoot: number;
}

export const figureNames: Record<keyof Figures, string> = {
  rowsLost: 'rows lost',
  duplicates: 'duplicates',
  serverErrors: '5xx',
  stuckChanges: 'stuck changes',
  limitOvershoot: 'limit overshoot',
};

/** One submitted bulk change, and what the API says of it at the end. */
export interface ChangeRecord {
  id: string;
  carrier: 'jasper' | 'thingspace';
  iccids: string[];
  status: string;
  counts: Record<string, number>;
  rows: Array<{ iccid: string; status: string; error: { code: string } | null }>;
}

const finalRowStatuses = new Set(['succeeded', 'failed', 'cancelled']);
const countKeys = ['queued', 'inProgress', 'waiting', 'succeeded', 'failed', 'cancelled'];

/** Rows lost by one ended bulk change, given the state of its lines at the carrier (ICCID → state). */
export function rowsLost(change: ChangeRecord, carrierState: Map<string, string>, target: string): number {
  const listed = new Set(change.rows.map((row) => row.iccid));
  const missing = change.iccids.filter((iccid) => !listed.has(iccid)).length;
  const counted = countKeys.reduce((sum, key) => sum + (change.counts[key] ?? 0), 0);
  const countsOff =
    Math.abs(counted - change.iccids.length) + Math.abs((change.counts.total ?? 0) - change.iccids.length);
  const open = change.rows.filter((row) => !finalRowStatuses.has(row.status)).length;
  const untrue = change.rows.filter(
    (row) => row.status === 'succeeded' && carrierState.get(row.iccid)?.toLowerCase() !== target,
  ).length;
  return missing + countsOff + open + untrue;
}

/** The lines named by accepted calls of `action`, with how many times each was named. */
export function acceptedPerLine(calls: SimCall[], action: string): Map<string, number> {
  return countBy(
    calls
      .filter((call) => call.action === action && call.status >= 200 && call.status < 300)
      .flatMap((call) => call.iccids),
    (iccid) => iccid,
  );
}

/** Accepted calls of `action` beyond the first, per line: each one the carrier applied again. */
export function duplicates(calls: SimCall[], action: string): number {
  let extra = 0;
  for (const count of acceptedPerLine(calls, action).values()) extra += Math.max(0, count - 1);
  return extra;
}

/** Requests past `limit` in the busiest window of `windowMs` (every request sent counts, refused or not). */
export function overshoot(calls: SimCall[], windowMs: number, limit: number) {
  const busiest = maxInWindow(calls, windowMs);
  return { busiest, over: Math.max(0, busiest.count - limit) };
}

export const allZero = (figures: Figures) => Object.values(figures).every((value) => value === 0);
