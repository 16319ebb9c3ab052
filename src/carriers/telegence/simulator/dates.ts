/** Telegence dates are calendar days, `yyyy-mm-dd`, in UTC here. */
export const dayMs = 86_400_000;

export const isoDate = (epochMs: number): string => new Date(epochMs).toISOString().slice(0, 10);

/**
 * Midnight UTC of a strict `yyyy-mm-dd` (or `yyyy-mm-ddZ`, as AT&T writes dates) that names a real
 * day, else undefined.
 */
export const parseIsoDate = (text: string): number | undefined => {
  if (!/^\d{4}-\d\d-\d\dZ?$/.test(text)) return undefined;
  const day = text.slice(0, 10);
  const at = Date.parse(`${day}T00:00:00Z`);
  return !Number.isNaN(at) && isoDate(at) === day ? at : undefined;
};

/** A day as AT&T writes it in its line objects: `yyyy-mm-ddZ`. */
export const attDate = (isoDay: string): string => `${isoDay.slice(0, 10)}Z`;

export const startOfDay = (epochMs: number): number => epochMs - (epochMs % dayMs);

/** The bill cycle `now` falls in: it starts on `billCycleDay` (1..28) and the next one a month later. */
export const billCycle = (billCycleDay: number, now: number): { start: number; next: number } => {
  const today = new Date(now);
  const year = today.getUTCFullYear();
  const month = today.getUTCMonth() - (today.getUTCDate() < billCycleDay ? 1 : 0);
  return { start: Date.UTC(year, month, billCycleDay), next: Date.UTC(year, month + 1, billCycleDay) };
};
