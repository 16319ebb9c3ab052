import type { ErrorDetail } from '../core/errors.ts';
import { yesNo } from '../core/field-types.ts';
import { checkIccid, cleanIdentifier } from '../core/identifiers.ts';
import { ASSIGNMENT_SHEET, assignmentColumns, INSTRUCTIONS_SHEET } from './activation-workbook.ts';
import { type CellProblem, type InputRow, inBatches, type TableRows, tableRows } from './csv-input.ts';
import { csvColumn, fieldForHeader, type RowField } from './row-fields.ts';
import { skipRows, type XlsxSheet, type XlsxSheets } from './xlsx-sheets.ts';

/** The fields the assignment sheet's columns may name (headers in our spelling or the original's). */
const assignmentFields = new Set<string>(assignmentColumns.map((column) => column.field));
const useCarrierActivationHeaders = new Set(['usecarrieractivation', 'isusecarrieractivation']);
const canonical = (header: string) => header.toLowerCase().replace(/[^a-z0-9]/g, '');

/** One row of the assignment sheet, read. */
interface AssignmentRow {
  row: number;
  fields: Record<string, string>;
  /** A cell could not be read (reported already): the row is not merged. */
  unreadable: boolean;
}

/**
 * A new mobility service's workbook (ADR 0052): the first sheet's activation rows, each with the
 * customer assignment the next data sheet gives its SIM merged in, for its linked customer assignment.
 * The activation rows are held until the assignment sheet (after them in the file) has been read; the
 * assignment sheet's own problems are reported with its name and row, and refuse the whole workbook.
 * Without a second data sheet, the first is read like any other upload.
 */
export async function activationWorkbookRows(first: XlsxSheet, sheets: XlsxSheets): Promise<TableRows> {
  const activations = await tableRows(first.records, 'activate_new_service');
  const rows: InputRow[] = [];
  const rowIssues: ErrorDetail[] = [];
  for await (const batch of activations.batches) {
    rows.push(...batch.rows);
    rowIssues.push(...batch.issues);
  }
  const second = await nextDataSheet(sheets);
  const assignment = second && (await readAssignmentSheet(second));
  await sheets.drain();
  if (!second || !assignment) {
    return { ...activations, batches: inBatches(rows, rowIssues) };
  }
  const merged = mergeAssignments(rows, assignment.rows, second.name, first.name);
  return {
    columns: [...new Set([...activations.columns, ...merged.columns])],
    sheet: first.name,
    roundTrip: activations.roundTrip,
    headerIssues: [...activations.headerIssues, ...assignment.issues, ...merged.issues],
    batches: inBatches(merged.rows, rowIssues),
  };
}

/** The next sheet of rows: hidden sheets (a template's lists) and the instructions are not. */
async function nextDataSheet(sheets: XlsxSheets): Promise<XlsxSheet | undefined> {
  for (let sheet = await sheets.next(); sheet; sheet = await sheets.next()) {
    if (!sheet.hidden && canonical(sheet.name) !== canonical(INSTRUCTIONS_SHEET)) return sheet;
    await skipRows(sheet);
  }
  return undefined;
}

/** The assignment sheet's header and rows; undefined when the sheet is empty (no assignment). */
async function readAssignmentSheet(
  sheet: XlsxSheet,
): Promise<{ rows: AssignmentRow[]; issues: ErrorDetail[] } | undefined> {
  const header = await sheet.records.next();
  if (header.done) return undefined;
  const issues: ErrorDetail[] = [];
  const at = (detail: Omit<ErrorDetail, 'sheet'>): ErrorDetail => ({ sheet: sheet.name, ...detail });
  const columns = header.value.map((cell) => {
    const name = typeof cell === 'string' ? cell : '';
    const field = assignmentField(name);
    if (!field) {
      issues.push(
        at({
          field: name,
          code: 'UNKNOWN_COLUMN',
          message: `Column "${name}" is not a column of the ${ASSIGNMENT_SHEET.toLowerCase()} sheet (see the template's instructions)`,
        }),
      );
    }
    return field;
  });
  const seen = new Set<string>();
  for (const [index, field] of columns.entries()) {
    if (!field) continue;
    if (seen.has(field)) {
      issues.push(
        at({ field, code: 'DUPLICATE_COLUMN', message: `Column "${header.value[index]}" repeats ${field}` }),
      );
      columns[index] = undefined;
    }
    seen.add(field);
  }
  for (const column of assignmentColumns.filter((candidate) => candidate.required)) {
    if (!seen.has(column.field))
      issues.push(
        at({
          field: column.field,
          code: 'MISSING_COLUMN',
          message: `The ${ASSIGNMENT_SHEET.toLowerCase()} sheet needs a ${csvColumn(column.field)} column`,
        }),
      );
  }
  const rows: AssignmentRow[] = [];
  let row = 0;
  for (let next = await sheet.records.next(); !next.done; next = await sheet.records.next()) {
    if (next.value.every((cell) => cell === '')) continue;
    row += 1;
    const fields: Record<string, string> = {};
    let unreadable = false;
    for (const [index, cell] of next.value.entries()) {
      const field = columns[index];
      if (!field || cell === '') continue;
      if (typeof cell === 'string') fields[field] = cell;
      else {
        issues.push(at({ row, field, ...(cell as CellProblem) }));
        unreadable = true;
      }
    }
    rows.push({ row, fields, unreadable });
  }
  return { rows, issues };
}

function assignmentField(header: string): string | undefined {
  if (useCarrierActivationHeaders.has(canonical(header))) return 'useCarrierActivation';
  const field = fieldForHeader(header, 'customer_assignment');
  return field && assignmentFields.has(field) ? field : undefined;
}

/** A SIM as both sheets are matched on: its ICCID as intake reads it, else the cell as written. */
const simKey = (value: unknown): string => checkIccid(value).value ?? cleanIdentifier(value);

/**
 * Each assignment row onto the activation row of its SIM. Cross-sheet rules (original §3.7): every
 * assignment names a SIM the first sheet activates, once; a billing customer; what a billing service
 * needs; and when billing starts.
 */
function mergeAssignments(
  activations: InputRow[],
  assignments: AssignmentRow[],
  sheet: string,
  activationsSheet: string,
): { rows: InputRow[]; columns: RowField[]; issues: ErrorDetail[] } {
  const issues: ErrorDetail[] = [];
  const report = (row: number, field: string, code: ErrorDetail['code'], message: string) =>
    issues.push({ sheet, row, field, code, message });
  const activationOf = new Map<string, InputRow>();
  for (const activation of activations) {
    const iccid = activation.fields.iccid;
    if (iccid !== undefined && !activationOf.has(simKey(iccid))) activationOf.set(simKey(iccid), activation);
  }
  const assignmentOf = new Map<InputRow, AssignmentRow>();
  const firstRowOf = new Map<string, number>();
  const columns = new Set<RowField>();
  for (const assignment of assignments) {
    const { row, fields } = assignment;
    if (assignment.unreadable) continue;
    if (fields.iccid === undefined) {
      report(row, 'iccid', 'REQUIRED', 'iccid is required: the SIM of an activation row');
      continue;
    }
    const checked = checkIccid(fields.iccid);
    if (checked.issue) {
      issues.push({ sheet, row, ...checked.issue });
      continue;
    }
    const earlier = firstRowOf.get(checked.value);
    if (earlier !== undefined) {
      report(row, 'iccid', 'DUPLICATE_ROW', `iccid ${checked.value} is already assigned in row ${earlier}`);
      continue;
    }
    firstRowOf.set(checked.value, row);
    const activation = activationOf.get(checked.value);
    if (!activation) {
      report(
        row,
        'iccid',
        'ASSIGNMENT_WITHOUT_ACTIVATION',
        `No row of the ${activationsSheet} sheet activates SIM ${checked.value}`,
      );
      continue;
    }
    const problem = assignmentProblem(fields, activation);
    if (problem) {
      report(row, problem.field, problem.code, problem.message);
      continue;
    }
    assignmentOf.set(activation, assignment);
  }
  const rows = activations.map((activation): InputRow => {
    const assignment = assignmentOf.get(activation);
    if (!assignment) return activation;
    const { iccid: _sim, useCarrierActivation: _from, ...given } = assignment.fields;
    for (const field of Object.keys(given)) columns.add(field as RowField);
    return {
      row: activation.row,
      fields: { ...activation.fields, ...given },
      origins: Object.fromEntries(Object.keys(given).map((field) => [field, { sheet, row: assignment.row }])),
    };
  });
  return { rows, columns: [...columns], issues };
}

type Problem = { field: string; code: ErrorDetail['code']; message: string };

const isYes = (value: string | undefined): boolean | undefined => {
  if (value === undefined) return false;
  const parsed = yesNo.safeParse(value);
  return parsed.success ? parsed.data : undefined;
};

/** One assignment row's own rules; field formats and catalogs are checked with the activation row. */
function assignmentProblem(fields: Record<string, string>, activation: InputRow): Problem | undefined {
  if (!fields.billingCustomerId)
    return { field: 'billingCustomerId', code: 'REQUIRED', message: 'billing_customer_id is required' };
  const onBoth = Object.keys(fields).find(
    (field) =>
      field !== 'iccid' &&
      activation.fields[field] !== undefined &&
      String(activation.fields[field]) !== fields[field],
  );
  if (onBoth)
    return {
      field: onBoth,
      code: 'INVALID_FIELD',
      message: `${csvColumn(onBoth)} differs from the activation row's (row ${activation.row}); give it on one sheet`,
    };
  const carrierActivation = isYes(fields.useCarrierActivation);
  if (carrierActivation === undefined)
    return {
      field: 'useCarrierActivation',
      code: 'INVALID_FIELD',
      message: `"${fields.useCarrierActivation}" is not yes or no`,
    };
  if (carrierActivation && fields.effectiveDate)
    return {
      field: 'effectiveDate',
      code: 'INVALID_FIELD',
      message: 'Give an effective_date or use_carrier_activation, not both',
    };
  if (!carrierActivation && !fields.effectiveDate && isYes(fields.prorate) === false)
    return {
      field: 'effectiveDate',
      code: 'REQUIRED',
      message:
        'effective_date is required unless prorate is yes, or use_carrier_activation is yes (billing from the day the line is activated)',
    };
  if (isYes(fields.createBillingService)) {
    if (!fields.serviceTypeId && !fields.packageId)
      return {
        field: 'serviceTypeId',
        code: 'REQUIRED',
        message: 'A billing service needs service_type_id (or package_id)',
      };
    const products = listLength(fields.productIds);
    if (products > 0 && listLength(fields.rates) !== products)
      return {
        field: 'rates',
        code: 'INVALID_FIELD',
        message: `Give one rate per product: ${products} products, ${listLength(fields.rates)} rates`,
      };
  }
  return undefined;
}

const listLength = (value: string | undefined): number =>
  (value ?? '').split(/[|;,\s]+/).filter((item) => item !== '').length;
