import { z } from 'zod';
/**
 * Every stable error code of the platform, in one place (in the manner of Fastify's `FST_ERR_*`): API
 * errors carry their HTTP status. `docs/errors.md` documents each one, and a test keeps the two in
 * step. A code appears in an API error body, a validation detail, a row's error, as our own
 * `carrierCode`, or in a failed job's `last_error`.
 */

/** Where a code appears: an API error body, a validation detail, a row's error, a carrier code, a failed job. */
export type ErrorKind = 'api' | 'detail' | 'row' | 'carrier' | 'job';

interface ErrorSpec {
  /** The HTTP status of an API error. */
  status?: number;
  /** What the code means; the message when no more specific one is given. */
  summary: string;
}

export const errorCatalogue = {
  // API errors: the body of a 4xx or 5xx answer
  UNAUTHENTICATED: { status: 401, summary: 'A valid API key is required (Authorization: Bearer …)' },
  FORBIDDEN: { status: 403, summary: "The key's role is too low for this" },
  MODULE_FORBIDDEN: {
    status: 403,
    summary: "The user's modules (m2m, mobility) do not include this carrier account's",
  },
  NOT_FOUND: { status: 404, summary: 'Not found in your tenant' },
  IDEMPOTENCY_KEY_REUSED: {
    status: 409,
    summary: 'This Idempotency-Key was already used with a different request',
  },
  NAME_TAKEN: { status: 409, summary: 'Another account of the tenant already has this name' },
  SITE_NAME_TAKEN: { status: 409, summary: 'Another site of the tenant already has this name' },
  SITE_IN_USE: { status: 409, summary: 'Lines are assigned to the site; move them before deleting it' },
  EMAIL_TAKEN: { status: 409, summary: 'A user with this e-mail address already exists' },
  BULK_CHANGE_FINISHED: {
    status: 409,
    summary: 'Cancel or pause of a bulk change that has already finished',
  },
  BULK_CHANGE_NOT_PAUSED: { status: 409, summary: 'Resume of a bulk change that is not paused' },
  BULK_CHANGE_NOT_AWAITING_APPROVAL: {
    status: 409,
    summary:
      'Approve or reject of a bulk change that is not awaiting approval (decided already, or never held)',
  },
  SELF_APPROVAL: {
    status: 403,
    summary: 'Approve or reject by whoever created the bulk change: four eyes need another key or user',
  },
  BULK_CHANGE_RUNNING: { status: 409, summary: 'Retry or undo of a bulk change that has not finished' },
  ALREADY_RETRIED: {
    status: 409,
    summary: 'Retry of a bulk change whose failed rows were already retried: a bulk change is retried once',
  },
  NOTHING_TO_RETRY: {
    status: 409,
    summary: 'Retry of a finished bulk change with no failed rows (cancelled rows are not retried)',
  },
  ALREADY_UNDONE: {
    status: 409,
    summary: 'Undo of a bulk change that was already undone: a bulk change is undone once',
  },
  NOTHING_TO_UNDO: {
    status: 409,
    summary:
      'Undo of a finished bulk change none of whose rows can be reversed (details say why, row by row)',
  },
  // Why a row of a bulk change is not reversed by its undo (`irreversible[].reason`, docs/guardrails.md)
  ROW_NOT_SUCCEEDED: { summary: 'The row failed or was cancelled: failed rows are not reversed' },
  LINE_NOT_CHANGED: { summary: 'The row changed nothing on the line (it already was as asked)' },
  LINE_CHANGED_SINCE: {
    summary: 'The line was changed again (or left the inventory) since: undo would overwrite that change',
  },
  BEFORE_STATE_UNKNOWN: {
    summary: 'The inventory held no value before the change (or an unknown status): nothing to go back to',
  },
  DEACTIVATION_FINAL: {
    summary:
      'A deactivation this carrier does not reverse (ThingSpace: a new activation; Telegence: cancelled)',
  },
  RETIRED_FINAL: { summary: 'A retired line never comes back' },
  IDENTIFIER_SWAP_FINAL: {
    summary: 'An ICCID or IMEI swap is not reversed: the old SIM or device may be gone',
  },
  NEW_SERVICE_FINAL: { summary: 'A new service activation is not reversed: that would cancel the line' },
  BILLING_INVOICED: {
    summary: 'The row created a billing service, which billing may already have invoiced',
  },
  ARCHIVAL_NOT_REVERSED: { summary: 'Archiving a line is not reversed by undo' },
  REVERSE_REFUSED: {
    summary: 'The reverse row fails the checks of any new row (the message names the check)',
  },
  RECONCILIATION_NOT_FINISHED: {
    status: 409,
    summary: 'A fix proposed from a reconciliation that has not completed (queued, running or failed)',
  },
  LINE_IN_RUNNING_CHANGE: { status: 409, summary: 'The line is still open in another bulk change' },
  AMBIGUOUS_LINE: {
    status: 409,
    summary: 'The identifier names more than one line; name the line by its id or another identifier',
  },
  PAYLOAD_TOO_LARGE: { status: 413, summary: 'The upload is larger than this server accepts' },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    summary: 'Send application/json, text/csv, an XLSX workbook or multipart/form-data',
  },
  VALIDATION_FAILED: { status: 422, summary: 'The request or some rows are invalid; nothing was created' },
  INVALID_CSV: { status: 422, summary: 'The file is not valid CSV' },
  INVALID_XLSX: { status: 422, summary: 'The file is not a readable XLSX workbook' },
  XLSX_ENCRYPTED: {
    status: 422,
    summary:
      'The workbook is password-protected (encrypted), or an old binary .xls: save it as .xlsx without a password',
  },
  XLSX_NO_SHEET: { status: 422, summary: 'The workbook has no sheet' },
  INTERNAL_ERROR: { status: 500, summary: 'Something went wrong on our side; it has been logged' },
  ANSWER_MISMATCH: {
    status: 500,
    summary:
      "An answer broke its route's documented schema (BULKCHANGE_ANSWER_CHECK=strict, the tests' setting)",
  },
  NOT_READY: {
    status: 503,
    summary: "The database is not reachable, or this process's queue is not working (claims, wake-ups)",
  },
  BAD_REQUEST: { status: 400, summary: 'The request is malformed' },
  PREVIEW_EXPIRED: { status: 404, summary: 'The preview has expired; upload the file again' },
  CSRF_TOKEN_INVALID: { status: 403, summary: 'The form has expired; reload the page and try again' },
  REQUEST_TIMEOUT: { status: 408, summary: 'The request was not received in time' },
  TOO_MANY_REQUESTS: { status: 429, summary: 'Too many failed attempts; wait as Retry-After says' },
  HEADERS_TOO_LARGE: { status: 431, summary: 'The request headers are too large' },
  BILLING_UNAVAILABLE: { status: 502, summary: 'The billing system refused or failed the call' },
  NOTHING_TO_CHANGE: {
    status: 422,
    summary:
      'Every line already is what its row asks for (skipAlreadyInTarget), or no row of a file exported for editing was edited: nothing to send',
  },
  ADDRESS_NOT_ALLOWED: {
    status: 422,
    summary: 'The URL leads to an address the outbound address policy refuses (loopback, private, …)',
  },
  // Validation details of a 422 (and of dry-run rows)
  INVALID_FIELD: { summary: 'A field is missing or malformed' },
  UNKNOWN_FIELD: { summary: 'A field the request or this change type does not read' },
  UNKNOWN_DRIFT: { summary: "A drift id that is not one of the reconciliation's drifts" },
  UNKNOWN_COLUMN: { summary: 'A CSV column that maps to no field this change type reads' },
  MISSING_COLUMN: { summary: 'A CSV has no column for a field the change type needs' },
  DUPLICATE_COLUMN: { summary: 'Two CSV columns map to the same field' },
  EMPTY_FILE: { summary: 'The CSV (or the first sheet of the XLSX) has no header row' },
  NO_ROWS: { summary: 'The request has no rows' },
  TOO_MANY_CELLS: { summary: 'A CSV line has more cells than the header' },
  UNREADABLE_CELL: {
    summary: 'An XLSX cell that cannot be read as text: a formula with no saved value, an error value (#N/A)',
  },
  NUMBER_NOT_EXACT: {
    summary: 'An XLSX cell holds a number of more than 15 digits, which a spreadsheet cannot keep exactly',
  },
  REQUIRED: { summary: 'A field the row needs is missing' },
  INVALID_DATE: { summary: 'ScheduledFor is not an ISO-8601 time' },
  UNSUPPORTED_CHANGE_TYPE: { summary: "The account's carrier does not support this change type" },
  UNSUPPORTED_CARRIER: { summary: 'The carrier is not supported by this build' },
  INVALID_CREDENTIALS_SHAPE: { summary: "The credentials do not have the carrier's shape" },
  INVALID_SETTINGS: { summary: 'A carrier setting is invalid' },
  INVALID_LIMITS: { summary: 'A value in settings.limits is out of range' },
  UNEXPECTED_PART: { summary: 'A multipart part after the file: the file is the last part and the only one' },
  INVALID_CHARACTER: { summary: 'A text value holds a NUL character, which no field accepts' },
  INVALID_URL: {
    summary:
      'A URL or path the server would call is not plain http(s) on one host (userinfo, query, dot segments…)',
  },
  INVALID_ICCID: { summary: 'The ICCID is not 19–20 digits (a trailing F is dropped first)' },
  INVALID_LUHN: { summary: "The ICCID's check digit is wrong" },
  SCIENTIFIC_NOTATION: { summary: 'A spreadsheet turned the identifier into a rounded number' },
  DUPLICATE_ROW: { summary: 'The same line (after cleaning) is already in an earlier row' },
  ASSIGNMENT_WITHOUT_ACTIVATION: {
    summary: "An activation workbook's customer assignment row names a SIM no activation row activates",
  },
  DEVICE_NOT_FOUND: { summary: 'No such line on this carrier account' },
  DEVICE_ARCHIVED: { summary: 'The line is archived in the inventory' },
  DEVICE_NOT_ARCHIVED: { summary: 'Unarchive of a line that is not archived' },
  UNKNOWN_SITE: { summary: "SiteId is not one of the tenant's sites (GET /api/v1/sites)" },
  INVALID_TRANSITION: { summary: "The line's current status cannot move to the target" },
  ALREADY_IN_TARGET: {
    summary: 'A dry-run row left out: the line already is what the row asks for (skipAlreadyInTarget)',
  },
  NOT_EDITED: {
    summary: 'A dry-run row left out: a row of a file exported for editing that was not edited',
  },
  UNKNOWN_RATE_PLAN: { summary: "CarrierRatePlan is not in the account's rate plan catalog" },
  COMMUNICATION_PLAN_NOT_ALLOWED: {
    summary: 'CommunicationPlan is not allowed with that rate plan in the catalog',
  },
  CARRIER_RULE: { summary: 'A carrier business rule refuses the line' },
  LEADING_ZERO_LOST: { summary: 'A 14-digit IMEI lost its leading 0 in a spreadsheet' },
  INVALID_IMEI: { summary: 'An IMEI is not 15 digits' },
  INVALID_MSISDN: { summary: 'Not a phone number' },
  INVALID_EID: { summary: 'An EID is not 32 digits, or its mod-97 check digits are wrong' },
  SIM_IN_USE: { summary: 'The SIM is already on a line in service' },
  ALREADY_IN_STATUS: { summary: 'The line is already in the target status' },
  LINE_NOT_ACTIVE: { summary: 'The line is not active' },
  INVALID_EFFECTIVE_DATE: {
    summary: 'The effective date is outside the current bill cycle or 30 days or more ahead',
  },
  ESIM_REQUIRED: { summary: 'The device needs an eSIM profile' },
  UNKNOWN_BILLING_CUSTOMER: {
    summary: "BillingCustomerId is not in the tenant's billing customers (GET /api/v1/billing-customers)",
  },
  UNKNOWN_CUSTOMER_RATE_PLAN: { summary: "CustomerRatePlanId is not in the tenant's customer rate plans" },
  UNKNOWN_CUSTOMER_POOL: { summary: "CustomerPoolId is not in the tenant's customer pools" },
  CATALOG_ENTRY_CLOSED: { summary: 'The catalog entry exists but is closed' },
  BILLING_SERVICE_OTHER_CUSTOMER: { summary: 'The line is billed to another customer' },
  ACTIVE_BILLING_SERVICE: { summary: 'The line has an active billing service' },
  RECENT_USAGE: { summary: 'The line used data in the last 30 days' },
  ICCID_IN_USE: { summary: 'The new ICCID already belongs to another line of the account' },
  INVALID_ROW: { summary: 'The row was rejected' },
  // Row errors at run time
  WRITE_DISABLED: { summary: 'Writes are disabled on the carrier account; nothing was sent' },
  AUTH_FAILED: { summary: "The carrier refused the account's credentials" },
  CARRIER_REJECTED: { summary: 'The carrier refused this line' },
  USERNAME_REFUSED: {
    summary:
      'POD19 took the username edit, then refused it (its audit trail shows Error): it is not a user of the account',
  },
  BILLING_FIELD_MISSING: {
    summary: "The line's Rev.io service has no custom field for a cost centre the row sets (CostCenter1–3)",
  },
  PACKAGE_CHANGE_ROLLED_BACK: { summary: 'POND could not complete the package change, so it was undone' },
  PACKAGE_NOT_FOUND: {
    summary: 'POND does not know the package a step works on (simulator code PACKAGE_NOT_FOUND)',
  },
  RESULT_MISSING: { summary: "The carrier's result has no entry for the line" },
  ACTIVATION_REJECTED: { summary: "AT&T rejected the line's activation" },
  ACTIVATION_NOT_FOUND: { summary: "Telegence: AT&T's activation request does not list the row's SIM" },
  BILLING_ACCOUNT_NOT_FOUND: {
    summary: "Telegence: AT&T does not know the row's billing account (BAN); nothing was posted for the row",
  },
  BILLING_ACCOUNT_INACTIVE: {
    summary: 'Telegence: the BAN is not active at AT&T; nothing was posted for the row',
  },
  FEATURE_REMOVAL_FAILED: { summary: 'The line was activated, but removing the requested features failed' },
  STATIC_IP_UNAVAILABLE: { summary: 'The line was activated, but the carrier had no free static IP for it' },
  STATIC_IP_FAILED: { summary: 'The line was activated, but its static IP provisioning failed' },
  PARENT_CHANGE_FAILED: {
    summary: "The line's change in the parent bulk change failed, so nothing was done",
  },
  BILLING_NOT_CONFIGURED: {
    status: 409,
    summary: 'A billing step, but the tenant has no billing connection (or its writes are off)',
  },
  BILLING_PROVIDER_UNKNOWN: {
    summary:
      "Creating a Rev.io service, but the billing settings name no provider id for the account's carrier",
  },
  CARRIER_UNAVAILABLE: { summary: 'The carrier failed transiently; the row is retried' },
  RETRIES_EXHAUSTED: { summary: 'The row used its whole retry budget' },
  ROW_CRASHES_WORKER: {
    summary: 'Handling this line alone took its worker down again and again; it was set apart',
  },
  CHANGE_ABANDONED: {
    summary: 'The engine gave up on the bulk change (its job failed for good); the line was not sent',
  },
  OUTCOME_UNKNOWN: { summary: 'The carrier never confirmed whether the change was applied' },
  WAIT_TIMEOUT: { summary: 'The carrier did not confirm the change within the maximum wait' },
  // Carrier codes of our own (a row error's carrierCode)
  TIMEOUT: { summary: "The carrier did not answer within the account's request timeout" },
  NETWORK_ERROR: { summary: 'The connection to the carrier failed or was dropped' },
  CIRCUIT_OPEN: { summary: "The account's circuit is open after repeated carrier faults: no call was made" },
  BAD_RESPONSE: { summary: 'The carrier answered 2xx with a body that is not what its API documents' },
  LOGIN_SUSPENDED: {
    summary: 'Logins were stopped after refused credentials, before the carrier locks the account',
  },
  CREDENTIALS_CHANGED: {
    summary:
      "The account's credentials changed while the call was waiting; it is tried again with the new ones",
  },
  LOGIN_BUSY: { summary: 'Other workers kept logging in to the account; the call is tried again later' },
  SESSION_EXPIRED: {
    summary:
      'The carrier refused a login session just renewed; nothing was applied, the call is tried again later',
  },
  FOREIGN_OPERATION_LINK: { summary: 'The carrier linked to an operation result outside its own domain' },
  // Failed jobs (last_error)
  UNKNOWN_TASK: { summary: "No handler for the job's task on this worker" },
  INVALID_PAYLOAD: { summary: "The job's payload is not the shape its task expects" },
  LEASE_EXPIRED: { summary: "The job's worker lost its lease with no attempts left" },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof errorCatalogue;

/** The codes by name (`errorCodes.WRITE_DISABLED`), for code that assigns them. */
export const errorCodes = Object.fromEntries(Object.keys(errorCatalogue).map((code) => [code, code])) as {
  readonly [Code in ErrorCode]: Code;
};

export const isErrorCode = (value: string): value is ErrorCode => Object.hasOwn(errorCatalogue, value);

/** Codes an API error body may carry: those with an HTTP status. */
export type ApiErrorCode = {
  [Code in ErrorCode]: (typeof errorCatalogue)[Code] extends { status: number } ? Code : never;
}[ErrorCode];

/** One row- or request-level problem, in the API's `details` shape. */
export interface ErrorDetail {
  /** The workbook sheet `row` is a data row of, when the upload has more than one sheet of rows. */
  sheet?: string;
  row?: number;
  field?: string;
  code: ErrorCode;
  message: string;
}

/** `ErrorDetail` as the API documents it: `code` is a code of docs/errors.md. */
export const errorDetailSchema = z
  .object({
    sheet: z
      .string()
      .optional()
      .describe('The workbook sheet `row` is a data row of, when the upload has several'),
    row: z.number().int().optional().describe('The 1-based data row, absent for the request'),
    field: z.string().optional(),
    code: z.string().describe('A stable code of docs/errors.md'),
    message: z.string(),
  })
  .meta({ id: 'ErrorDetail' });

/**
 * An error the API reports with a stable code; its HTTP status comes from the catalogue. Anything else
 * that escapes a route is a bug and becomes a 500 without internals.
 */
export class AppError extends Error {
  readonly code: ApiErrorCode;
  readonly statusCode: number;
  readonly details: ErrorDetail[];
  /** Headers the answer carries (`Retry-After` of a 429). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    code: ApiErrorCode,
    message?: string,
    details: ErrorDetail[] = [],
    cause?: unknown,
    headers: Record<string, string> = {},
  ) {
    super(message ?? errorCatalogue[code].summary, { cause });
    this.name = 'AppError';
    this.code = code;
    this.statusCode = errorCatalogue[code].status;
    this.details = details;
    this.headers = headers;
  }
}

export const notFound = (what: string) => new AppError('NOT_FOUND', `${what} not found`);

export const validationFailed = (
  details: ErrorDetail[],
  message = 'The request has invalid rows or fields',
) => new AppError('VALIDATION_FAILED', message, details);

export const conflict = (code: ApiErrorCode, message: string) => new AppError(code, message);

/** A stored code, read back: one of the catalogue's. */
export const errorCodeSchema = z.enum(Object.keys(errorCatalogue) as [ErrorCode, ...ErrorCode[]]);
