import type { CarrierLimits } from '../core/flow.ts';
import { count } from './components/format.ts';

/** Milliseconds as an operator says them: "30 s", "1 min", "1 h 30 min", "24 h". */
export function humanDuration(ms: number): string {
  const seconds = ms / 1000;
  if (seconds < 60) return `${Number(seconds.toFixed(1))} s`;
  const minutes = Math.floor(seconds / 60);
  const rest = Math.round(seconds % 60);
  if (minutes < 60) return rest ? `${minutes} min ${rest} s` : `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
}

/**
 * Each limit as the carrier accounts page shows and takes it: a name an operator reads, the unit the
 * form's box is in (seconds, minutes) and how that unit converts to what `settings.limits` stores.
 */
export interface LimitUnit {
  name: keyof CarrierLimits;
  label: string;
  /** The unit of the form's box. */
  unit: string;
  /** Stored value = box value × factor. */
  factor: number;
  show: (value: number | null) => string;
}

const plural = (value: number, one: string, many: string) => `${count(value)} ${value === 1 ? one : many}`;

export const limitUnits: LimitUnit[] = [
  {
    name: 'requestsPerSecond',
    label: 'Requests per second',
    unit: 'per second',
    factor: 1,
    show: (value) => (value === null ? 'no limit' : `${value} per second`),
  },
  {
    name: 'maxConcurrent',
    label: 'Requests at a time',
    unit: 'requests',
    factor: 1,
    show: (value) => `${value ?? '—'} at a time`,
  },
  {
    name: 'batchSize',
    label: 'Lines per request',
    unit: 'lines',
    factor: 1,
    show: (value) => plural(value ?? 0, 'line per request', 'lines per request'),
  },
  {
    name: 'retryBudget',
    label: 'Attempts per line',
    unit: 'attempts',
    factor: 1,
    show: (value) => plural(value ?? 0, 'attempt', 'attempts'),
  },
  {
    name: 'requestTimeoutMs',
    label: 'Request timeout',
    unit: 'seconds',
    factor: 1000,
    show: (value) => humanDuration(value ?? 0),
  },
  {
    name: 'checkIntervalMs',
    label: 'Check a waiting line every',
    unit: 'seconds',
    factor: 1000,
    show: (value) => humanDuration(value ?? 0),
  },
  {
    name: 'maxWaitMs',
    label: 'Longest wait for the carrier',
    unit: 'minutes',
    factor: 60_000,
    show: (value) => humanDuration(value ?? 0),
  },
];

/** A stored value in the box's unit (empty when not set). */
export const inUnit = (unit: LimitUnit, stored: unknown): string =>
  typeof stored === 'number' ? String(Number((stored / unit.factor).toFixed(3))) : '';

/** A box's value as stored: whole milliseconds where the unit is a time. */
export const fromUnit = (unit: LimitUnit, value: number): number =>
  unit.factor === 1 ? value : Math.round(value * unit.factor);
