import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { CarrierAccountView } from '../../accounts/carrier-accounts.ts';
import type { InputRow } from '../../bulk-changes/csv-input.ts';
import { asClientError, multipartParts } from '../../bulk-changes/multipart.ts';
import { readUploadRows, XLSX_CONTENT_TYPE } from '../../bulk-changes/upload-input.ts';
import { type ChangeType, changeTypes } from '../../core/change-types.ts';
import { AppError, type ErrorDetail, validationFailed } from '../../core/errors.ts';
import { moduleAllows, requireModule } from '../../core/modules.ts';
import type { Principal } from '../../core/roles.ts';
import { nulCharacterAt, nulDetail } from '../../core/text.ts';
import { type PortalUser, requireCsrf, requirePortalRole } from '../auth.ts';
import type { FieldInput } from '../change-catalog.ts';
import { csvColumn, label } from '../components/format.ts';
import { csrfField, problemList } from '../components/forms.ts';
import type { PortalApp, PortalDeps } from '../deps.ts';
import { html, type SafeHtml } from '../html.ts';
import { page, sendHtml } from '../layout.ts';
import { type PreviewInput, serviceInput } from '../preview-stash.ts';

const OPTION_PREFIX = 'option.';

const chooseQuery = z.object({
  carrierAccountId: z.string().max(100).optional(),
  changeType: z.enum(changeTypes).optional(),
});

const previewFields = z
  .object({
    _csrf: z.string().optional(),
    carrierAccountId: z.string().min(1).max(100),
    changeType: z.enum(changeTypes),
    identifiers: z.string().optional(),
    when: z.enum(['now', 'later']).default('now'),
    scheduledFor: z.string().optional(),
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
  suggestions: Record<string, string[]>;
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
  const changeType = query.changeType && types.includes(query.changeType) ? query.changeType : types[0];
  const plans = await deps.accounts.ratePlans(tenantId, account.id);
  const state: FormState = {
    accounts,
    account,
    changeTypes: types,
    changeType,
    fields: deps.catalog.fields(account.carrier, changeType),
    keyField: deps.catalog.keyField(account.carrier),
    suggestions: {
      carrierRatePlan: plans.map((plan) => plan.code),
      communicationPlan: [...new Set(plans.flatMap((plan) => plan.communicationPlans))],
    },
  };
  return state;
}

function fieldControl(field: FieldInput, value: string | undefined, suggestions: string[] = []): SafeHtml {
  const id = `option-${field.name}`;
  const name = OPTION_PREFIX + field.name;
  const hint = field.required
    ? html`<span class="hint">Required: set it here, or in a <code>${csvColumn(field.name)}</code> column.</span>`
    : html`<span class="hint">Optional; a <code>${csvColumn(field.name)}</code> column overrides it per row.</span>`;
  if (field.kind === 'checkbox') {
    return html`<div class="field field-checkbox">
  <input id="${id}" name="${name}" type="checkbox" value="true"${value === 'true' ? html` checked` : ''}>
  <label for="${id}">${field.label}</label> ${hint}
</div>`;
  }
  if (field.kind === 'select') {
    return html`<div class="field">
  <label for="${id}">${field.label}</label>
  <select id="${id}" name="${name}">
    <option value="">— from the file —</option>
    ${field.options.map((option) => html`<option value="${option}"${option === value ? html` selected` : ''}>${label(option)}</option>`)}
  </select>
  ${hint}
</div>`;
  }
  const list = suggestions.length > 0 ? `${id}-choices` : undefined;
  return html`<div class="field">
  <label for="${id}">${field.label}</label>
  <input id="${id}" name="${name}" type="${field.kind === 'date' ? 'date' : 'text'}" value="${value ?? ''}"${list ? html` list="${list}"` : ''}>
  ${list && html`<datalist id="${list}">${suggestions.map((option) => html`<option value="${option}"></option>`)}</datalist>`}
  ${hint}
</div>`;
}

function chooser(state: FormState): SafeHtml {
  return html`<form method="get" action="/portal/bulk-changes/new" class="filters" data-autosubmit aria-label="Account and change type">
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

function newBulkChangePage(options: {
  user: PortalUser;
  state: FormState;
  values?: Record<string, string>;
  problems?: { message: string; details: ErrorDetail[] };
}) {
  const { state, user } = options;
  const values = options.values ?? {};
  const columns = [state.keyField, ...state.fields.map((field) => field.name)].map(csvColumn);
  return page({
    title: 'New bulk change',
    user,
    section: 'new',
    body: html`<h1>New bulk change</h1>
${options.problems && problemList(options.problems.message, options.problems.details)}
<section aria-labelledby="step-1"><h2 id="step-1">1. Carrier account and change type</h2>
${chooser(state)}
<p class="muted">${state.account.name} is a ${state.account.carrier} account (${state.account.writeEnabled ? 'writes enabled' : html`<strong>writes disabled</strong>: every row would fail with WRITE_DISABLED`}).</p>
</section>
<form method="post" action="/portal/bulk-changes/preview" enctype="multipart/form-data" class="stack">
  ${csrfField(user)}
  <input type="hidden" name="carrierAccountId" value="${state.account.id}">
  <input type="hidden" name="changeType" value="${state.changeType}">
  <section aria-labelledby="step-2"><h2 id="step-2">2. The lines</h2>
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
    ${state.fields.map((field) => fieldControl(field, values[OPTION_PREFIX + field.name], state.suggestions[field.name]))}
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
  };
  return csv
    ? {
        ...base,
        rows: csv.rows,
        csvColumns: csv.columns,
        inputIssues: csv.issues.filter((issue) => issue.row === undefined),
        rowIssues: csv.issues.filter((issue) => issue.row !== undefined),
      }
    : { ...base, rows: pastedRows(pasted, state.keyField), inputIssues: [], rowIssues: [] };
}

export function newBulkChangeRoutes(app: PortalApp, deps: PortalDeps): void {
  app.get(
    '/bulk-changes/new',
    { schema: { hide: true, querystring: chooseQuery } },
    async (request, reply) => {
      const user = requirePortalRole(request, 'operator');
      const state = await formState(deps, user.principal, request.query);
      if (!state) throw new AppError('NOT_FOUND', 'There is no carrier account to change lines on yet');
      return sendHtml(reply, newBulkChangePage({ user, state }));
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
