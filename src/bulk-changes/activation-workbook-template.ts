import ExcelJS from 'exceljs';
import type { CarrierAccounts } from '../accounts/carrier-accounts.ts';
import type { BillingCatalogs } from '../billing/billing-catalogs.ts';
import type { CarrierRegistry } from '../carriers/registry.ts';
import { validationFailed } from '../core/errors.ts';
import {
  ACTIVATIONS_SHEET,
  ASSIGNMENT_SHEET,
  activationColumns,
  assignmentColumns,
  INSTRUCTIONS_SHEET,
  type WorkbookColumn,
} from './activation-workbook.ts';
import { csvColumn } from './row-fields.ts';

/** Rows of each sheet the drop-downs and cell formats reach; more rows can be added below them. */
const TEMPLATE_ROWS = 500;
const LISTS_SHEET = 'Lists';

const usStates = (
  'AK AL AR AZ CA CO CT DC DE FL GA HI IA ID IL IN KS KY LA MA MD ME MI MN MO MS MT NC ND NE NH NJ NM ' +
  'NV NY OH OK OR PA PR RI SC SD TN TX UT VA VT WA WI WV WY'
).split(' ');

type ListName = NonNullable<WorkbookColumn['list']>;

/**
 * The activation workbook template of one carrier account (ADR 0052): an activation sheet and a
 * customer assignment sheet with their headers, text and date cells where a spreadsheet would mangle
 * the value, drop-downs from the account's rate plans and the tenant's billing catalogs, and an
 * instructions sheet. What comes back filled in is read by `activation-workbook-input.ts`.
 */
export class ActivationWorkbookTemplates {
  readonly #accounts: CarrierAccounts;
  readonly #catalogs: BillingCatalogs;
  readonly #registry: CarrierRegistry;

  constructor(deps: { accounts: CarrierAccounts; catalogs: BillingCatalogs; registry: CarrierRegistry }) {
    this.#accounts = deps.accounts;
    this.#catalogs = deps.catalogs;
    this.#registry = deps.registry;
  }

  /** The template for the account, as an XLSX file; a 422 for an account that activates no new service. */
  async build(tenantId: string, carrierAccountId: string): Promise<Buffer> {
    const account = this.#accounts.view(await this.#accounts.get(tenantId, carrierAccountId));
    if (!this.#registry.flowFor(account.carrier, 'activate_new_service')) {
      throw validationFailed(
        [
          {
            field: 'carrierAccountId',
            code: 'UNSUPPORTED_CHANGE_TYPE',
            message: `${account.carrier} accounts do not activate new service; the workbook is for AT&T (Telegence) accounts`,
          },
        ],
        `Carrier account "${account.name}" has no activation workbook`,
      );
    }
    const [plans, customers, customerPlans, pools] = await Promise.all([
      this.#accounts.ratePlans(tenantId, account.id),
      this.#catalogs.list(tenantId, 'billing_customers'),
      this.#catalogs.list(tenantId, 'customer_rate_plans'),
      this.#catalogs.list(tenantId, 'customer_pools'),
    ]);
    const open = <T extends { status: string; id: string }>(entries: T[]) =>
      entries.filter((entry) => entry.status === 'active').map((entry) => entry.id);
    return workbookBuffer({
      ratePlans: plans.map((plan) => plan.code),
      yesNo: ['yes', 'no'],
      states: usStates,
      billingCustomers: open(customers),
      customerRatePlans: open(customerPlans),
      customerPools: open(pools),
    });
  }
}

async function workbookBuffer(lists: Record<ListName, string[]>): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  workbook.creator = 'bulkchange';
  const activations = workbook.addWorksheet(ACTIVATIONS_SHEET, { views: [{ state: 'frozen', ySplit: 1 }] });
  const assignment = workbook.addWorksheet(ASSIGNMENT_SHEET, { views: [{ state: 'frozen', ySplit: 1 }] });
  instructionsSheet(workbook.addWorksheet(INSTRUCTIONS_SHEET));
  // The drop-downs' values sit on a hidden sheet: a list written into the rule is capped at 255 characters.
  const listSheet = workbook.addWorksheet(LISTS_SHEET, { state: 'hidden' });
  const ranges = new Map<ListName, string>();
  for (const [index, [name, values]] of Object.entries(lists).entries()) {
    const column = listSheet.getColumn(index + 1);
    listSheet.getCell(1, index + 1).value = name;
    values.forEach((value, row) => {
      listSheet.getCell(row + 2, index + 1).value = value;
    });
    if (values.length > 0)
      ranges.set(
        name as ListName,
        `${LISTS_SHEET}!$${column.letter}$2:$${column.letter}$${values.length + 1}`,
      );
  }
  dataSheet(activations, activationColumns, ranges);
  dataSheet(assignment, assignmentColumns, ranges);
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

function dataSheet(sheet: ExcelJS.Worksheet, columns: WorkbookColumn[], ranges: Map<ListName, string>): void {
  sheet.columns = columns.map((column) => ({
    header: csvColumn(column.field),
    key: column.field,
    width: Math.max(14, csvColumn(column.field).length + 4),
  }));
  const header = sheet.getRow(1);
  header.font = { bold: true };
  for (const [index, column] of columns.entries()) {
    const cell = header.getCell(index + 1);
    cell.note = `${column.required ? 'Required. ' : ''}${column.help}`;
    const range = column.list && ranges.get(column.list);
    for (let row = 2; row <= TEMPLATE_ROWS + 1; row++) {
      const target = sheet.getCell(row, index + 1);
      // Identifiers as text: a 19-digit ICCID typed into a number cell has already lost digits.
      if (column.text) target.numFmt = '@';
      if (column.date) target.numFmt = 'yyyy-mm-dd';
      if (range)
        target.dataValidation = {
          type: 'list',
          allowBlank: true,
          formulae: [range],
          showErrorMessage: true,
          errorTitle: csvColumn(column.field),
          error: `Choose a value from the list (${column.help})`,
        };
    }
  }
}

function instructionsSheet(sheet: ExcelJS.Worksheet): void {
  sheet.columns = [
    { header: 'Sheet', key: 'sheet', width: 22 },
    { header: 'Column', key: 'column', width: 26 },
    { header: 'Required', key: 'required', width: 10 },
    { header: 'What goes in it', key: 'help', width: 110 },
  ];
  sheet.getRow(1).font = { bold: true };
  const describe = (name: string, columns: WorkbookColumn[]) => {
    for (const column of columns)
      sheet.addRow({
        sheet: name,
        column: csvColumn(column.field),
        required: column.required ? 'yes' : '',
        help: column.help,
      });
  };
  describe(ACTIVATIONS_SHEET, activationColumns);
  describe(ASSIGNMENT_SHEET, assignmentColumns);
  sheet.addRow({});
  for (const line of [
    `One row of "${ACTIVATIONS_SHEET}" per SIM to activate; at most one row of "${ASSIGNMENT_SHEET}" per activated SIM, naming it by its ICCID.`,
    `The "${ASSIGNMENT_SHEET}" sheet may be left empty: the lines are then activated and not assigned. Its rows run as the linked customer assignment once the lines are active; a line whose activation fails is not assigned.`,
    'Every row is checked before anything is sent; a problem is reported with its sheet, row, column and code, and nothing is created.',
    `Keep the sheets in this order; "${INSTRUCTIONS_SHEET}" and hidden sheets are never read as rows.`,
  ])
    sheet.addRow({ help: line });
}
