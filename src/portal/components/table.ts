import { html, type SafeHtml } from '../html.ts';

export interface Column<Row> {
  header: string;
  /** Names the column for `cellAttributes` when the header is not a stable name. */
  key?: string;
  cell: (row: Row) => SafeHtml | string | number | null;
  /** Adds `class` to the column's cells, e.g. `num` to right-align numbers. */
  className?: string;
}

/**
 * A data table. On a phone each row becomes a card of "header: value" lines (the CSS reads the header
 * from `data-label`); the explicit roles keep it a table for assistive technology when its display
 * changes. The region takes keyboard focus so a wide table can be scrolled without a mouse.
 */
export function table<Row>(options: {
  caption: string;
  columns: Column<Row>[];
  rows: Row[];
  empty: string;
  /** Extra attributes for a row's `<tr>`. */
  rowAttributes?: (row: Row) => SafeHtml;
  /** Extra attributes for a cell, e.g. to mark it invalid. */
  cellAttributes?: (row: Row, column: Column<Row>) => SafeHtml | null;
}): SafeHtml {
  if (options.rows.length === 0) return html`<p class="empty">${options.empty}</p>`;
  const cellClass = (column: Column<Row>) => (column.className ? html` class="${column.className}"` : '');
  return html`<div class="table-wrap" role="region" aria-label="${options.caption}" tabindex="0">
  <table role="table">
    <caption class="visually-hidden">${options.caption}</caption>
    <thead role="rowgroup"><tr role="row">${options.columns.map((column) => html`<th scope="col" role="columnheader"${cellClass(column)}>${column.header}</th>`)}</tr></thead>
    <tbody role="rowgroup">${options.rows.map(
      (row) =>
        html`<tr role="row"${options.rowAttributes?.(row) ?? ''}>${options.columns.map(
          (column) =>
            html`<td role="cell" data-label="${column.header}"${cellClass(column)}${options.cellAttributes?.(row, column) ?? ''}>${column.cell(row)}</td>`,
        )}</tr>`,
    )}</tbody>
  </table>
</div>`;
}
