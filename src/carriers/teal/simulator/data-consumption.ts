import { z } from 'zod';
import { type TealDataType, tealDataTypes, tealPeriodTime } from '../client.ts';

/** `yyyy-MM-dd HH:mm:ss`, read as UTC: the only date format Teal's consumption query takes. */
const periodTime = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/, 'a time as yyyy-MM-dd HH:mm:ss')
  .transform((value, context) => {
    const ms = Date.parse(`${value.replace(' ', 'T')}Z`);
    // Date.parse rolls 2026-02-30 over to March: a date that does not read back the same is refused.
    if (Number.isNaN(ms) || tealPeriodTime(ms) !== value) {
      context.addIssue({ code: 'custom', message: `${value} is not a valid time` });
      return z.NEVER;
    }
    return ms;
  });

/** The query, strictly as Teal takes it: a known `dataType`, both period ends, at most 100 a page. */
export const createConsumptionQuerySchema = (maxPageSize: number) =>
  z
    .object({
      dataType: z.enum(tealDataTypes),
      periodStart: periodTime,
      periodEnd: periodTime,
      offset: z.coerce.number().int().min(0).default(0),
      limit: z.coerce.number().int().min(1).max(maxPageSize).default(maxPageSize),
    })
    .refine((query) => query.periodStart <= query.periodEnd, {
      path: ['periodEnd'],
      message: 'periodEnd is before periodStart',
    });
export type TealConsumptionQuery = z.infer<ReturnType<typeof createConsumptionQuerySchema>>;

/** What `POST /_sim/data-consumption` takes: the bytes an eSIM used on a UTC day. */
export const consumptionSeedSchema = z.array(
  z.strictObject({
    eid: z.string().regex(/^\d{32}$/, 'an EID is 32 digits'),
    date: z.iso.date(),
    bytes: z.number().int().min(0),
  }),
);
export type TealConsumptionSeed = z.infer<typeof consumptionSeedSchema>[number];

/** One entry of the answer: the bytes an eSIM used in the period starting at `periodStart`. */
export interface TealConsumptionEntry {
  eid: string;
  periodStart: string;
  bytes: number;
}

const DAY_MS = 86_400_000;

/** The start of the day or month (UTC) that holds `ms`. */
const periodOf = (dataType: TealDataType, ms: number): number => {
  if (dataType.startsWith('DAILY')) return ms - (ms % DAY_MS);
  const date = new Date(ms);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
};

/**
 * Data used per eSIM per UTC day, as seeded. The simulator knows no provider networks, so the
 * `*_PROVIDER_NETWORK` reports add up the same bytes as the plain ones.
 */
export class TealConsumptionStore {
  /** EID → day start (epoch ms) → bytes. */
  readonly #days = new Map<string, Map<number, number>>();

  /** Sets (not adds) each day's bytes. */
  record(seeds: TealConsumptionSeed[]): void {
    for (const { eid, date, bytes } of seeds) {
      const days = this.#days.get(eid) ?? new Map<number, number>();
      days.set(Date.parse(`${date}T00:00:00Z`), bytes);
      this.#days.set(eid, days);
    }
  }

  /** Every period that overlaps the query's, per EID (ordered by EID, then period). */
  report(query: Omit<TealConsumptionQuery, 'offset' | 'limit'>): TealConsumptionEntry[] {
    const first = periodOf(query.dataType, query.periodStart);
    const entries: TealConsumptionEntry[] = [];
    for (const eid of [...this.#days.keys()].sort()) {
      const periods = new Map<number, number>();
      for (const [day, bytes] of this.#days.get(eid) ?? []) {
        if (day < first || day > query.periodEnd) continue;
        const period = periodOf(query.dataType, day);
        periods.set(period, (periods.get(period) ?? 0) + bytes);
      }
      for (const [period, bytes] of [...periods].sort(([a], [b]) => a - b)) {
        entries.push({ eid, periodStart: tealPeriodTime(period), bytes });
      }
    }
    return entries;
  }

  /** For `GET /_sim/data-consumption`: every seeded day. */
  list(): TealConsumptionSeed[] {
    return [...this.#days].flatMap(([eid, days]) =>
      [...days].map(([day, bytes]) => ({ eid, date: tealPeriodTime(day).slice(0, 10), bytes })),
    );
  }

  clear(): void {
    this.#days.clear();
  }
}
