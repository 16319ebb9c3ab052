import type { Readable } from 'node:stream';
import type { ChangeType } from '../core/change-types.ts';
import type { Device } from '../devices/devices-repository.ts';
import { CURRENT_VALUE_PREFIX, csvColumn } from './row-fields.ts';
import { csvFile, linesOf, type TableLine, xlsxFile } from './table-files.ts';
import type { TargetField } from './target-state.ts';
import { XLSX_CONTENT_TYPE } from './upload-input.ts';

export const exportFormats = ['csv', 'xlsx'] as const;
export type ExportFormat = (typeof exportFormats)[number];

/** The headers of the download: its type, and a file name that says what it is for. */
export const exportHeaders = (changeType: ChangeType, format: ExportFormat) => ({
  'content-type': format === 'xlsx' ? XLSX_CONTENT_TYPE : 'text/csv; charset=utf-8',
  'content-disposition': `attachment; filename="${changeType}-lines.${format}"`,
});

/** What the file holds: the column naming each line, and the fields to edit. */
export interface EditableFields {
  keyField: 'iccid' | 'msisdn' | 'eid';
  fields: readonly TargetField[];
}

/**
 * A selection exported for editing (ADR 0059): the line's identifier, then for each field the line's
 * value now (`current_<line field>`, read-only, ignored on upload) beside the same value in the field's
 * own upload column, to edit. Uploaded back as a bulk change of the same type, only the rows whose
 * value differs from the inventory are created. Lines are written as they are read (constant memory);
 * archived lines are left out, since no change but an unarchive takes them.
 */
export function selectionForEditing(
  editable: EditableFields,
  lines: AsyncIterable<Device>,
  format: ExportFormat,
): Readable {
  const columns = [
    csvColumn(editable.keyField),
    ...editable.fields.flatMap(({ field, lineField }) => [
      CURRENT_VALUE_PREFIX + csvColumn(lineField),
      csvColumn(field),
    ]),
  ];
  const line = (device: Device): TableLine => [
    device[editable.keyField],
    ...editable.fields.flatMap(({ current }) => [current(device), current(device)]),
  ];
  const rows = linesOf(unarchived(lines), line);
  if (format === 'csv') return csvFile(columns, rows);
  const readOnlyColumns = new Set(columns.filter((column) => column.startsWith(CURRENT_VALUE_PREFIX)));
  return xlsxFile({ sheet: 'Lines', columns, readOnlyColumns }, rows);
}

async function* unarchived(lines: AsyncIterable<Device>) {
  for await (const device of lines) if (!device.archived) yield device;
}
