import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { CarrierAccountView } from '../../accounts/carrier-accounts.ts';
import type { InputRow } from '../../bulk-changes/csv-input.ts';
import { asClientError, multipartParts } from '../../bulk-changes/multipart.ts';
import { setsOneValue } from '../../bulk-changes/target-state.ts';
import { readUploadRows, XLSX_CONTENT_TYPE } from '../../bulk-changes/upload-input.ts';
import { type ChangeType, changeTypes } from '../../core/change-types.ts';
import { AppError, type ErrorDetail, validationFailed } from '../../core/errors.ts';
import { moduleAllows, requireModule } from '../../core/modules.ts';
import type { Principal } from '../../core/roles.ts';
import { nulCharacterAt, nulDetail } from '../../core/text.ts';
import { type PortalUser, requireCsrf, requirePortalRole } from '../auth.ts';
import type { FieldInput } from '../change-catalog.ts';
import { type Choice, namedChoice } from '../components/choices.ts';
import { csvColumn, label } from '../components/format.ts';
import { csrfField, problemList } from '../components/forms.ts';
import type { PortalApp, PortalDeps } from '../deps.ts';
import { type DevicesFilter, linesFilterOf, linesQuery } from '../device-filter.ts';
import { fieldHelp } from '../field-help.ts';
import { href, html, type SafeHtml } from '../html.ts';
import { page, sendHtml } from '../layout.ts';
import { type PreviewInput, serviceInput } from '../preview-stash.ts';

const OPTION_PREFIX = 'option.';

const chooseQuery = z
  .object({
    carrierAccountId: z.string().max(100).optional(),
    changeType: z.enum(changeTypes).optional(),
  })
  // `lines.*`: a devices filter whose lines the form starts with (device-filter.ts).
  .loose();

/** Lines a devices filter may fill the form with; more go through an exported CSV. */
const MAX_LINES_FROM_FILTER = 10_000;

/** The lines a devices filter names, as the identifiers the form pastes (the carrier's key field). */
interface LinesFromFilter {
  filter: DevicesFilter;
  identifiers: string[];
  /** More lines matched than the form takes. */
  truncated: boolean;
}

async function linesFromFilter(
  deps: PortalDeps,
  tenantId: string,
  state: FormState,
  filter: DevicesFilter | undefined,
): Promise<LinesFromFilter | undefined> {
  // A bulk change runs on one account: a filter for another one (or none) does not apply.
  if (!filter || filter.carrierAccountId !== state.account.id) return undefined;
  const identifiers: string[] = [];
  let truncated = false;
  for await (const device of deps.devices.matching(tenantId, filter, MAX_LINES_FROM_FILTER + 1)) {
    if (identifiers.length === MAX_LINES_FROM_FILTER) {
      truncated = true;
      break;
    }
    const key = device[state.keyField as 'iccid' | 'msisdn' | 'eid'];
    if (key) identifiers.push(key);
  }
  return { filter, identifiers, truncated };
}

/** What the filter was, in words: "status Active, rate plan P1". */
const filterText = (filter: DevicesFilter): string =>
  [
    filter.status && `status ${label(filter.status)}`,
    filter.carrierRatePlan && `rate plan ${filter.carrierRatePlan}`,
    filter.billingCustomerId && `customer ${filter.billingCustomerId}`,
  ]
    .filter(Boolean)
    .join(', ') || 'every line of the account';

const previewFields = z
  .object({
    _csrf: z.string().optional(),
    carrierAccountId: z.string().min(1).max(100),
    changeType: z.enum(changeTypes),
    identifiers: z.string().optional(),
    when: z.enum(['now', 'later']).default('now'),
    scheduledFor: z.string().optional(),
    alreadyInTarget: z.enum(['skip', 'send']).default('skip'),
  })
  .loose();
type PreviewFields = z.infer<typeof previewFields>;

/** What the form shows: the accounts, the chosen one's change types and the chosen type's fields. */
interface FormState {
  accounts: CarrierAccountView[];
  account: CarrierAccountView;
  changeTypes: ChangeType[];
  changeType: ChangeType;
  fields: FieldInput[];
  keyField: string;
  /** Fields picked from a catalog (carrier rate plans, billing customers, …) rather than typed. */
  choices: Record<string, Choice[]>;
}

/** The change type a new form starts with: a status update, the commonest, where the carrier has it. */
const DEFAULT_CHANGE_TYPE: ChangeType = 'status_update';

/** The catalogs the chosen change type's fields pick from; a field whose catalog is empty stays a text box. */
async function catalogChoices(
  deps: PortalDeps,
  tenantId: string,
  account: CarrierAccountView,
  fields: FieldInput[],
): Promise<Record<string, Choice[]>> {
  const wanted = new Set(fields.map((field) => field.name));
  const choices: Record<string, Choice[]> = {};
  if (wanted.has('carrierRatePlan') || wanted.has('communicationPlan')) {
    const plans = await deps.accounts.ratePlans(tenantId, account.id);
    choices.carrierRatePlan = plans.map((plan) => namedChoice(plan.code, plan.name));
    choices.communicationPlan = [...new Set(plans.flatMap((plan) => plan.communicationPlans))].map((plan) =>
      namedChoice(plan, plan),
    );
  }
  const billing = [
    ['billingCustomerId', 'billing_customers'],
    ['customerRatePlanId', 'customer_rate_plans'],
    ['customerPoolId', 'customer_pools'],
  ] as const;
  for (const [field, catalog] of billing) {
    if (!wanted.has(field)) continue;
    const entries = await deps.catalogs.list(tenantId, catalog);
    choices[field] = entries
      .filter((entry) => entry.status === 'active')
      .map((entry) => namedChoice(entry.id, entry.name));
  }
  return Object.fromEntries(Object.entries(choices).filter(([, list]) => list.length > 0));
}

/**
 * The form for the principal: only the accounts of their modules are offered, and naming another one
 * is refused (`MODULE_FORBIDDEN`) as the service would refuse it.
 */
async function formState(deps: PortalDeps, principal: Principal, query: z.infer<typeof chooseQuery>) {
  const { tenantId } = principal;
  const all = (await deps.accounts.list(tenantId)).filter(
    (account) => deps.catalog.changeTypes(account.carrier).length > 0,
  );
  const named = all.find((candidate) => candidate.id === query.carrierAccountId);
  if (named) requireModule(principal.modules, named);
  const accounts = all.filter((candidate) => moduleAllows(principal.modules, candidate.carrier));
  const account = named ?? accounts[0];
  if (!account) return undefined;
  const types = deps.catalog.changeTypes(account.carrier);
  const wanted = query.changeType ?? DEFAULT_CHANGE_TYPE;
  const changeType = types.includes(wanted) ? wanted : types[0];
  const fields = deps.catalog.fields(account.carrier, changeType);
  const state: FormState = {
    accounts,
    account,
    changeTypes: types,
    changeType,
    fields,
    keyField: deps.catalog.keyField(account.carrier),
    choices: await catalogChoices(deps, tenantId, account, fields),
  };
  return state;
}

function fieldControl(field: FieldInput, value: string | undefined, choices: Choice[] | undefined): SafeHtml {
  const id = `option-${field.name}`;
  const name = OPTION_PREFIX + field.name;
  const column = html`<code>${csvColumn(field.name)}</code>`;
  const help = fieldHelp[field.name] && html`<span class="hint">${fieldHelp[field.name]}</span>`;
  const hint = field.required
    ? html`${help}<span class="hint">Required: set it here, or in a ${column} column.</span>`
    : html`${help}<span class="hint">Optional; a ${column} column overrides it per row.</span>`;
  if (field.kind === 'checkbox') {
    return html`<div class="field field-checkbox">
  <input id="${id}" name="${name}" type="checkbox" value="true"${value === 'true' ? html` checked` : ''}>
  <label for="${id}">${field.label}</label> ${hint}
</div>`;
  }
  const options: Choice[] | undefined =
    field.kind === 'select'
      ? field.options.map((option) => ({ value: option, text: label(option) }))
      : choices;
  if (options) {
    return html`<div class="field">
  <label for="${id}">${field.label}</label>
  <select id="${id}" name="${name}">
    <option value="">— from the file —</option>
    ${options.map((option) => html`<option value="${option.value}"${option.value === value ? html` selected` : ''}>${option.text}</option>`)}
  </select>
  ${hint}
</div>`;
  }
  return html`<div class="field">
  <label for="${id}">${field.label}</label>
  <input id="${id}" name="${name}" type="${field.kind === 'date' ? 'date' : 'text'}" value="${value ?? ''}">
  ${hint}
</div>`;
}

/** Lines already in the target: skipped unless the operator asks for them to be sent anyway. */
function alreadyInTargetChoice(value: string | undefined): SafeHtml {
  return html`<fieldset class="choices">
  <legend>Lines already in that state</legend>
  <div class="field-checkbox"><input id="already-skip" type="radio" name="alreadyInTarget" value="skip"${value !== 'send' ? html` checked` : ''}><label for="already-skip">Skip them: nothing is sent for a line that would not change</label></div>
  <div class="field-checkbox"><input id="already-send" type="radio" name="alreadyInTarget" value="send"${value === 'send' ? html` checked` : ''}><label for="already-send">Send them anyway</label></div>
  <p class="hint" data-round-trip-note>A file exported for editing (with <code>current_*</code> columns) sends only its edited rows whose line is not already as they ask, whichever you choose.</p>
</fieldset>`;
}

function chooser(state: FormState, lines: LinesFromFilter | undefined): SafeHtml {
  return html`<form method="get" action="/portal/bulk-changes/new" class="filters" data-autosubmit aria-label="Account and change type">
  ${lines && Object.entries(linesQuery(lines.filter)).map(([name, value]) => value !== undefined && html`<input type="hidden" name="${name}" value="${value}">`)}
  <div class="field">
    <label for="choose-account">Carrier account</label>
    <select id="choose-account" name="carrierAccountId">
      ${state.accounts.map(
        (account) =>
          html`<option value="${account.id}"${account.id === state.account.id ? html` selected` : ''}>${account.name}</option>`,
      )}
    </select>
  </div>
  <div class="field">
    <label for="choose-type">Change type</label>
    <select id="choose-type" name="changeType">
      ${state.changeTypes.map(
        (type) =>
          html`<option value="${type}"${type === state.changeType ? html` selected` : ''}>${label(type)}</option>`,
      )}
    </select>
  </div>
  <button type="submit" class="button">Choose</button>
</form>`;
}

/** A new mobility service can come as the activation workbook: activations and their customer assignment. */
const workbookHint = (account: CarrierAccountView): SafeHtml =>
  html`<p class="hint" data-activation-workbook>Activating with customer assignment? <a href="/portal/carrier-accounts/${account.id}/activation-workbook.xlsx" download>Download the activation workbook template</a> (an <strong>Activations</strong> sheet and a <strong>Customer assignment</strong> sheet, with drop-downs from this account's rate plans and your billing catalogs), fill it in and drop it here.</p>`;

function newBulkChangePage(options: {
  user: PortalUser;
  state: FormState;
  values?: Record<string, string>;
  problems?: { message: string; details: ErrorDetail[] };
  lines?: LinesFromFilter;
}) {
  const { state, user, lines } = options;
  const values: Record<string, string> = {
    ...(lines ? { identifiers: lines.identifiers.join('\n') } : {}),
    ...options.values,
  };
  const columns = [state.keyField, ...state.fields.map((field) => field.name)].map(csvColumn);
  return page({
    title: 'New bulk change',
    user,
    section: 'new',
    body: html`<h1>New bulk change</h1>
${options.problems && problemList(options.problems.message, options.problems.details)}
<section aria-labelledby="step-1"><h2 id="step-1">1. Carrier account and change type</h2>
${chooser(state, lines)}
<p class="muted">${state.account.name} is a ${state.account.carrier} account (${state.account.writeEnabled ? 'writes enabled' : html`<strong>writes disabled</strong>: every row would fail with WRITE_DISABLED`}).</p>
</section>
<form method="post" action="/portal/bulk-changes/preview" enctype="multipart/form-data" class="stack">
  ${csrfField(user)}
  <input type="hidden" name="carrierAccountId" value="${state.account.id}">
  <input type="hidden" name="changeType" value="${state.changeType}">
  <section aria-labelledby="step-2"><h2 id="step-2">2. The lines</h2>
    ${state.changeType === 'activate_new_service' && workbookHint(state.account)}
    ${
      lines &&
      html`<p class="alert alert-notice" data-lines-from-filter>${lines.identifiers.length} ${lines.identifiers.length === 1 ? 'line' : 'lines'} from the devices filter (${filterText(lines.filter)}) are filled in below.${lines.truncated ? ` Only the first ${MAX_LINES_FROM_FILTER} are taken: export the lines as CSV to change more at once.` : ''} <a href="${href('/portal/devices', lines.filter)}">Back to the devices</a></p>`
    }
    <label class="dropzone" data-dropzone for="file">
      <span class="dropzone-title">Drop a CSV or XLSX file here, or choose one</span>
      <span class="hint">Columns: ${columns.map((column, index) => html`${index > 0 && ', '}<code>${column}</code>`)}. The header is matched in any case or separator style.</span>
      <input id="file" name="file" type="file" accept=".csv,text/csv,.xlsx,${XLSX_CONTENT_TYPE}">
      <span class="dropzone-file" data-dropzone-file aria-live="polite"></span>
    </label>
    <div class="field">
      <label for="identifiers">…or paste ${state.keyField.toUpperCase()}s, one per line</label>
      <textarea id="identifiers" name="identifiers" rows="6" spellcheck="false">${values.identifiers ?? ''}</textarea>
    </div>
  </section>
  <section aria-labelledby="step-3"><h2 id="step-3">3. Set for every row</h2>
    ${state.fields.length === 0 ? html`<p class="muted">${label(state.changeType)} has no fields to set.</p>` : ''}
    ${state.fields.map((field) => fieldControl(field, values[OPTION_PREFIX + field.name], state.choices[field.name]))}
    ${setsOneValue(state.changeType) && alreadyInTargetChoice(values.alreadyInTarget)}
  </section>
  <section aria-labelledby="step-4"><h2 id="step-4">4. When</h2>
    <fieldset class="choices">
      <legend class="visually-hidden">When to run</legend>
      <div class="field-checkbox"><input id="when-now" type="radio" name="when" value="now"${values.when !== 'later' ? html` checked` : ''}><label for="when-now">As soon as it is submitted</label></div>
      <div class="field-checkbox"><input id="when-later" type="radio" name="when" value="later"${values.when === 'later' ? html` checked` : ''}><label for="when-later">Later, at</label>
        <label for="scheduled-for" class="visually-hidden">Start time (UTC)</label>
        <input id="scheduled-for" name="scheduledFor" type="datetime-local" value="${values.scheduledFor ?? ''}"> <span class="hint">UTC</span></div>
    </fieldset>
  </section>
  <div><button type="submit" class="button button-primary">Preview (dry run)</button>
  <span class="hint">Nothing is sent to the carrier before you confirm.</span></div>
</form>`,
  });
}

interface PreviewForm {
  fields: Record<string, string>;
  csv?: Awaited<ReturnType<typeof readUploadRows>> & { fileName: string };
}

/** Reads the form's parts; the file (CSV or XLSX) is parsed as it streams (the change type comes before it). */
async function readPreviewForm(request: FastifyRequest, maxUploadBytes: number): Promise<PreviewForm> {
  const fields: Record<string, string> = {};
  let csv: PreviewForm['csv'];
  const parts = multipartParts(request, { fileSize: maxUploadBytes, files: 1 });
  for (let next = await parts.next(); !next.done; next = await parts.next()) {
    const part = next.value;
    if (part.type !== 'file') {
      fields[part.fieldname] = String(part.value);
    } else if (!part.filename) {
      // The empty file input of a form sent without a file.
      await part.toBuffer().catch((error: unknown) => {
        throw asClientError(error);
      });
    } else {
      // The form sends the change type before the file: the file's columns are read as its fields.
      const changeType = z.enum(changeTypes).safeParse(fields.changeType);
      if (!changeType.success) {
        throw new AppError('VALIDATION_FAILED', 'Choose a change type before the file', [
          { field: 'changeType', code: 'INVALID_FIELD', message: 'Choose a change type' },
        ]);
      }
      const parsed = await readUploadRows(part.file, changeType.data, {
        contentType: part.mimetype,
        fileName: part.filename,
      });
      if (part.file.truncated)
        throw new AppError('PAYLOAD_TOO_LARGE', 'The file is larger than this server accepts');
      csv = { ...parsed, fileName: part.filename };
    }
  }
  const nulAt = nulCharacterAt(fields);
  if (nulAt !== undefined) throw validationFailed([nulDetail(nulAt)], 'A field holds a NUL character');
  return { fields, csv };
}

const pastedRows = (text: string, keyField: string): InputRow[] =>
  text
    .split(/[\s,;]+/)
    .filter(Boolean)
    .map((identifier, index) => ({ row: index + 1, fields: { [keyField]: identifier } }));

/** Only the chosen type's fields, and only those filled in: an empty field means "per row". */
function optionsFrom(form: Record<string, string>, fields: FieldInput[]): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  for (const field of fields) {
    const value = form[OPTION_PREFIX + field.name]?.trim();
    if (value) options[field.name] = field.kind === 'checkbox' ? true : value;
  }
  return options;
}

/** `datetime-local` has no zone: the form says UTC, and a time in the past is refused rather than run now. */
function scheduleFrom(form: PreviewFields): string | undefined {
  if (form.when !== 'later') return undefined;
  const value = form.scheduledFor ?? '';
  const at = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value) ? Date.parse(`${value}Z`) : Number.NaN;
  if (Number.isNaN(at) || at <= Date.now()) {
    throw new AppError('VALIDATION_FAILED', 'Choose a start time in the future (UTC)', [
      {
        field: 'scheduledFor',
        code: 'INVALID_DATE',
        message: 'The start time must be a future date and time',
      },
    ]);
  }
  return new Date(at).toISOString();
}

function previewInput(form: PreviewFields, csv: PreviewForm['csv'], state: FormState): PreviewInput {
  const pasted = form.identifiers?.trim() ?? '';
  if (csv && pasted) {
    throw new AppError('VALIDATION_FAILED', 'Give a CSV file or pasted identifiers, not both');
  }
  if (!csv && !pasted) throw new AppError('VALIDATION_FAILED', 'Choose a CSV file or paste identifiers');
  const base = {
    carrierAccountId: state.account.id,
    changeType: state.changeType,
    options: optionsFrom(form as Record<string, string>, state.fields),
    scheduledFor: scheduleFrom(form),
    skipAlreadyInTarget: setsOneValue(state.changeType) && form.alreadyInTarget === 'skip',
  };
  return csv
    ? {
        ...base,
        rows: csv.rows,
        csvColumns: csv.columns,
        roundTrip: csv.roundTrip,
        ...(csv.sheet ? { rowsSheet: csv.sheet } : {}),
        // A problem of another sheet (a workbook's customer assignment) is no row of these rows.
        inputIssues: csv.issues.filter((issue) => issue.row === undefined || issue.sheet !== undefined),
        rowIssues: csv.issues.filter((issue) => issue.row !== undefined && issue.sheet === undefined),
      }
    : { ...base, rows: pastedRows(pasted, state.keyField), inputIssues: [], rowIssues: [] };
}

export function newBulkChangeRoutes(app: PortalApp, deps: PortalDeps): void {
  app.get(
    '/bulk-changes/new',
    { schema: { hide: true, querystring: chooseQuery } },
    async (request, reply) => {
      const user = requirePortalRole(request, 'operator');
      const { tenantId } = user.principal;
      const state = await formState(deps, user.principal, request.query);
      if (!state) throw new AppError('NOT_FOUND', 'There is no carrier account to change lines on yet');
      const lines = await linesFromFilter(deps, tenantId, state, linesFilterOf(request.query));
      return sendHtml(reply, newBulkChangePage({ user, state, lines }));
    },
  );

  app.post(
    '/bulk-changes/preview',
    { schema: { hide: true }, config: { csrfInBody: true } },
    async (request, reply) => {
      const user = requirePortalRole(request, 'operator');
      const { fields, csv } = await readPreviewForm(request, deps.maxUploadBytes);
      requireCsrf(user, fields._csrf);
      const form = previewFields.parse(fields);
      const state = await formState(deps, user.principal, form);
      if (!state || state.account.id !== form.carrierAccountId || state.changeType !== form.changeType) {
        throw new AppError('NOT_FOUND', 'That carrier account or change type is not available');
      }
      try {
        const input = previewInput(form, csv, state);
        const report = await deps.bulkChanges.create(user.principal, {
          ...serviceInput(input),
          dryRun: true,
          acceptValidRows: false,
        });
        if (!('dryRun' in report)) throw new Error('A dry run created a bulk change');
        const preview = deps.previews.put(user.session.id, {
          input,
          report,
          accountName: state.account.name,
          source: csv ? csv.fileName : `${input.rows.length} pasted identifiers`,
          columns: csv ? csv.columns : [state.keyField],
        });
        return reply.redirect(`/portal/bulk-changes/preview/${preview.token}`, 303);
      } catch (error) {
        if (!(error instanceof AppError) || error.statusCode !== 422) throw error;
        const problems = { message: error.message, details: error.details };
        return sendHtml(reply, newBulkChangePage({ user, state, values: fields, problems }), 422);
      }
    },
  );
}
