/** Identifiers shorter than this could match by accident (a count, a status code) and are not looked for. */
const MIN_IDENTIFIER = 6;

/**
 * One line's part of a batch call's request or response, found by its identifiers (ICCID, IMEI, MSISDN,
 * EID) rather than by each carrier's wire format: an array in which some elements name the line keeps
 * those elements (whole) and drops the others', the lines the same call carried; everything else (the
 * URL, headers, a request id) is kept as it is. The entry keeps the whole call; this is a view of it.
 */
export function sliceForLine(document: unknown, identifiers: ReadonlyArray<string | null>): unknown {
  const wanted = identifiers.filter(
    (id): id is string => typeof id === 'string' && id.length >= MIN_IDENTIFIER,
  );
  if (wanted.length === 0) return document;
  const names = (value: unknown): boolean => {
    if (typeof value === 'string') return wanted.some((id) => value.includes(id));
    if (typeof value === 'number') return wanted.includes(String(value));
    if (Array.isArray(value)) return value.some(names);
    if (value !== null && typeof value === 'object') return Object.values(value).some(names);
    return false;
  };
  const walk = (value: unknown): unknown => {
    if (Array.isArray(value)) {
      const mine = value.filter(names);
      return mine.length > 0 ? mine : value;
    }
    if (value !== null && typeof value === 'object')
      return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, walk(inner)]));
    return value;
  };
  return walk(document);
}
