/** Rows as aligned columns, two spaces apart; the last column is not padded (it is free text). */
export function textTable(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, index) => {
      widths[index] = Math.max(widths[index] ?? 0, cell.length);
    });
  }
  return rows
    .map((row) =>
      row
        .map((cell, index) => (index === row.length - 1 ? cell : cell.padEnd(widths[index])))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** The first `max` lines and, when some are left out, a line saying how many. */
export function capped(lines: string[][], max: number): { shown: string[][]; more: string } {
  const shown = lines.slice(0, max);
  const left = lines.length - shown.length;
  return { shown, more: left > 0 ? `… and ${left} more` : '' };
}
