/**
 * One page of a list read with `limit + 1` rows (API §1): the extra row only says another page exists,
 * and the cursor is the last row shown.
 */
export function page<Row, Item>(
  rows: Row[],
  limit: number,
  view: (row: Row) => Item,
  cursorOf: (row: Row) => string | number,
): { items: Item[]; nextCursor: string | null } {
  const shown = rows.slice(0, limit);
  return {
    items: shown.map(view),
    nextCursor: rows.length > limit ? String(cursorOf(shown[shown.length - 1])) : null,
  };
}

/**
 * A cursor that is a row number: digits that fit a safe integer, so a longer one is a 422 rather than a
 * number PostgreSQL's bigint refuses (a 500).
 */
export const NUMERIC_CURSOR = /^\d{1,15}$/;
