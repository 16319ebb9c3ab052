import { z } from 'zod';
import type {
  CarrierRoute,
  SimFailureKind,
  SimRequest,
  SimResponse,
} from '../../simulator-kit/definition.ts';
import { DeviceStore, type SimDevice } from '../../simulator-kit/device-store.ts';
import type { Faults } from '../../simulator-kit/faults.ts';
import { createSimulatorServer, type SimulatorServer } from '../../simulator-kit/simulator.ts';
import { canMoveJasperLine, type JasperStatus, jasperStatuses } from '../statuses.ts';
import { auditFieldNames, auditTrailPage, type JasperAuditEntry } from './audit-trail.ts';

// The simulator enforces the same transition matrix that intake checks.
export { jasperTransitions } from '../statuses.ts';

export interface JasperRatePlan {
  code: string;
  communicationPlans: string[];
}

export interface JasperSimulatorOptions {
  /** username → API key (HTTP Basic). */
  users?: Record<string, string>;
  /** Over the Jasper defaults (the documented limits). */
  faults?: Partial<Faults>;
  ratePlans?: JasperRatePlan[];
  /**
   * How the account names its custom fields, and those that take only listed values (POD19 keeps its
   * users' names in one): a value not listed is answered 200, then refused, leaving the field as it
   * was and an `Error` entry in the line's audit trail.
   */
  customFields?: Partial<Record<CustomField, { label: string; values?: string[] }>>;
}

export const jasperDefaultUsers: Record<string, string> = { demo: 'demo-api-key' };

/** The first communication plan of each is the one a rate plan change falls back to. */
export const jasperRatePlans: JasperRatePlan[] = [
  { code: 'IoT Basic 1MB', communicationPlans: ['CP_Basic_ON'] },
  { code: 'IoT 10MB', communicationPlans: ['CP_Basic_ON', 'CP_Data_Only'] },
  { code: 'IoT 100MB', communicationPlans: ['CP_Data_Only', 'CP_Data_SMS'] },
  { code: 'IoT 1GB', communicationPlans: ['CP_Data_SMS', 'CP_Static_IP'] },
  { code: 'IoT Unlimited', communicationPlans: ['CP_Data_SMS'] },
];

/** Documented: at most 5 calls per second and one call at a time (carrier-apis §2.4). */
export const jasperDefaultFaults: Partial<Faults> = { rateLimitPerSecond: 5, maxConcurrent: 1 };

/**
 * Cisco's published codes (10000001 invalid credentials, 10000003 invalid ICCID, 10000028 a field the
 * function does not take, 40000029 rate limit exceeded) and this simulator's own for the rest, stable
 * so that clients and tests can key on them (docs/carriers/jasper.md, "Unconfirmed").
 */
export const jasperErrorCodes = {
  invalidCredentials: '10000001',
  invalidRequest: '10000002',
  iccidNotFound: '10000003',
  invalidQueryParameter: '10000004',
  resourceNotFound: '10000009',
  unknownField: '10000028',
  rateLimited: '40000029',
  tooManyConcurrent: '40000029',
  serviceUnavailable: '10000020',
  internalError: '10000021',
  noEditableField: '20000001',
  invalidStatus: '20000003',
  invalidEffectiveDate: '20000010',
  invalidStatusChange: '20000017',
  unknownRatePlan: '20000018',
  communicationPlanNotAllowed: '20000019',
} as const;

const customFieldNames = [
  ...numbered('accountCustom', 10),
  ...numbered('operatorCustom', 5),
  ...numbered('customerCustom', 5),
] as CustomField[];
type UpToFive = 1 | 2 | 3 | 4 | 5;
export type CustomField =
  | `accountCustom${UpToFive | 6 | 7 | 8 | 9 | 10}`
  | `operatorCustom${UpToFive}`
  | `customerCustom${UpToFive}`;

/** A simulated line; `GET /_sim/devices` shows it as is (times in ISO-8601). */
export interface JasperSimLine extends SimDevice {
  state: JasperStatus;
  imsi: string | null;
  imei: string | null;
  msisdn: string | null;
  eid: string | null;
  ratePlan: string | null;
  communicationPlan: string | null;
  ipAddress: string | null;
  ipv6Address: string | null;
  customer: string | null;
  deviceID: string | null;
  modemID: string | null;
  overageLimitOverride: string | null;
  customFields: Partial<Record<CustomField, string>>;
  accountId: string;
  dateAdded: string;
  dateUpdated: string;
  dateActivated: string | null;
  /** The last `effectiveDate` sent; the change itself was applied at once. */
  effectiveDate: string | null;
  /** Its changes, newest first (Get Device Audit History). */
  auditTrail: JasperAuditEntry[];
  /** Bytes of data used this cycle (Get Device Usage `ctdDataUsage`). */
  ctdDataUsage: number;
}

const accountId = '100020620';
const maxEffectiveDaysAhead = 180;
const maxPageSize = 50;

const optionalText = z.string().nullish();
const statusSchema = z.enum(jasperStatuses);

const createSeedSchema = (plans: Map<string, string[]>) =>
  z
    .object({
      iccid: z.string().regex(/^\d{18,22}$/, 'an ICCID is 18 to 22 digits'),
      imei: optionalText,
      msisdn: optionalText,
      eid: optionalText,
      // `status` is Jasper's own name for it.
      state: statusSchema.optional(),
      status: statusSchema.optional(),
      ratePlan: optionalText,
      communicationPlan: optionalText,
      ipAddress: optionalText,
      ctdDataUsage: z.number().int().nonnegative().optional(),
    })
    .superRefine((seed, context) => {
      if (seed.ratePlan && !plans.has(seed.ratePlan)) {
        context.addIssue({
          code: 'custom',
          path: ['ratePlan'],
          message: `unknown rate plan ${seed.ratePlan}`,
        });
      } else if (
        seed.communicationPlan &&
        !plans.get(seed.ratePlan ?? '')?.includes(seed.communicationPlan)
      ) {
        context.addIssue({
          code: 'custom',
          path: ['communicationPlan'],
          message: `${seed.communicationPlan} is not a communication plan of rate plan ${seed.ratePlan ?? '(none)'}`,
        });
      }
    });
type JasperSeed = z.infer<ReturnType<typeof createSeedSchema>>;

// A field Control Center does not take is refused (10000028), not ignored; the status is checked by
// hand for its own code.
const editSchema = z.strictObject({
  status: z.string().optional(),
  ratePlan: z.string().min(1).optional(),
  communicationPlan: z.string().min(1).optional(),
  effectiveDate: z.string().optional(),
  customer: z.string().optional(),
  deviceID: z.string().optional(),
  modemID: z.string().optional(),
  overageLimitOverride: z.enum(['DEFAULT', 'TEMPORARY_OVERRIDE', 'PERMANENT_OVERRIDE']).optional(),
  ipv4Address: z.ipv4().optional(),
  ipv6Address: z.ipv6().optional(),
  ...(Object.fromEntries(customFieldNames.map((name) => [name, z.string().optional()])) as Record<
    CustomField,
    z.ZodOptional<z.ZodString>
  >),
});
type JasperEdit = z.infer<typeof editSchema>;

/** Search Devices searches a window of at most a year (`modifiedSince` to `modifiedTill`, or to now). */
const maxSearchWindowMs = 365 * 86_400_000;

const searchQuerySchema = z
  .object({
    modifiedSince: z
      .string({ error: 'modifiedSince is required' })
      .refine(isDateTime, 'modifiedSince must be a date-time such as 2016-04-18T17:31:34+00:00'),
    modifiedTill: z.string().refine(isDateTime, 'modifiedTill must be a date-time').optional(),
    status: statusSchema.optional(),
    pageSize: z.coerce.number().int().min(1).max(maxPageSize).default(maxPageSize),
    pageNumber: z.coerce.number().int().min(1).default(1),
  })
  .refine(
    ({ modifiedSince, modifiedTill }) => {
      const since = Date.parse(modifiedSince);
      const till = modifiedTill === undefined ? Date.now() : Date.parse(modifiedTill);
      return till - since <= maxSearchWindowMs;
    },
    { message: 'modifiedSince to modifiedTill (or now) must be a window of at most one year' },
  );

/**
 * Cisco IoT Control Center REST (carrier-apis §2), for every Jasper-family variant. HTTP Basic auth is
 * checked after the kit's fault gate, so throttling and outages hit unauthenticated callers too.
 */
export const createJasperSimulator = (
  options: JasperSimulatorOptions = {},
): SimulatorServer<JasperSimLine> => {
  const users = options.users ?? jasperDefaultUsers;
  const plans = new Map(
    (options.ratePlans ?? jasperRatePlans).map((plan) => [plan.code, plan.communicationPlans]),
  );
  const store = new DeviceStore<JasperSimLine>();
  const authenticated =
    (handle: (request: SimRequest) => SimResponse) =>
    (request: SimRequest): SimResponse =>
      authenticate(users, request) ?? handle(request);
  const customFields = options.customFields ?? {};
  const iccidParam = (request: SimRequest) => [request.params.iccid];
  const routes: CarrierRoute[] = [
    {
      method: 'GET',
      url: '/rws/api/v1/devices/:iccid',
      action: 'get_device',
      iccids: iccidParam,
      handle: authenticated((request) => getDevice(store, request.params.iccid)),
    },
    {
      method: 'PUT',
      url: '/rws/api/v1/devices/:iccid',
      action: 'put_device',
      iccids: iccidParam,
      handle: authenticated((request) => editDevice(store, plans, customFields, request)),
    },
    {
      method: 'GET',
      url: '/rws/api/v1/devices/:iccid/ctdUsages',
      action: 'get_usage',
      iccids: iccidParam,
      handle: authenticated((request) => {
        const line = store.get(request.params.iccid);
        return line === undefined ? iccidNotFound() : { status: 200, body: cycleUsage(line) };
      }),
    },
    {
      method: 'GET',
      url: '/rws/api/v1/devices/:iccid/auditTrails',
      action: 'get_audit_trail',
      iccids: iccidParam,
      handle: authenticated((request) => {
        const line = store.get(request.params.iccid);
        if (line === undefined) return iccidNotFound();
        return auditTrailPage(line.iccid, line.auditTrail, request.query, (message) =>
          jasperError(400, jasperErrorCodes.invalidQueryParameter, message),
        );
      }),
    },
    {
      method: 'GET',
      url: '/rws/api/v1/devices',
      action: 'search_devices',
      iccids: () => [],
      handle: authenticated((request) => searchDevices(store, request.query)),
    },
  ];
  return createSimulatorServer({
    store,
    routes,
    defaultFaults: { ...jasperDefaultFaults, ...options.faults },
    seedSchema: createSeedSchema(plans),
    fromSeed: (seed: JasperSeed, existing) => seededLine(plans, seed, existing),
    errorEnvelope: (failure) => ({ errorMessage: failure.message, errorCode: failureCodes[failure.kind] }),
  });
};

const failureCodes: Record<SimFailureKind, string> = {
  outage: jasperErrorCodes.serviceUnavailable,
  rate_limited: jasperErrorCodes.rateLimited,
  too_many_concurrent: jasperErrorCodes.tooManyConcurrent,
  injected_error: jasperErrorCodes.internalError,
  internal: jasperErrorCodes.internalError,
  bad_request: jasperErrorCodes.invalidRequest,
  not_found: jasperErrorCodes.resourceNotFound,
};

const jasperError = (status: number, errorCode: string, errorMessage: string): SimResponse => ({
  status,
  body: { errorMessage, errorCode },
});

/** Runs after the fault gate: a real gateway throttles before it looks at credentials. */
const authenticate = (users: Record<string, string>, request: SimRequest): SimResponse | undefined => {
  const credentials = /^Basic\s+(\S+)$/i.exec(request.headers.authorization ?? '');
  if (credentials === null) {
    return {
      status: 401,
      headers: { 'www-authenticate': 'Basic realm="Jasper"' },
      body: { errorMessage: 'Full authentication is required to access this resource' },
    };
  }
  const decoded = Buffer.from(credentials[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const username = decoded.slice(0, colon);
  const valid = colon > 0 && Object.hasOwn(users, username) && users[username] === decoded.slice(colon + 1);
  return valid ? undefined : jasperError(401, jasperErrorCodes.invalidCredentials, 'Invalid credentials');
};

const iccidNotFound = () =>
  jasperError(404, jasperErrorCodes.iccidNotFound, 'Resource not found - Iccid does not exist');

const getDevice = (store: DeviceStore<JasperSimLine>, iccid: string): SimResponse => {
  const line = store.get(iccid);
  return line === undefined ? iccidNotFound() : { status: 200, body: deviceDetails(line) };
};

/** Validates the whole edit before changing anything, so a refused edit leaves the line untouched. */
const editDevice = (
  store: DeviceStore<JasperSimLine>,
  plans: Map<string, string[]>,
  customFields: NonNullable<JasperSimulatorOptions['customFields']>,
  request: SimRequest,
) => {
  const line = store.get(request.params.iccid);
  if (line === undefined) return iccidNotFound();
  const parsed = editSchema.safeParse(request.body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    if (issue.code === 'unrecognized_keys') {
      return jasperError(400, jasperErrorCodes.unknownField, `Invalid field: ${issue.keys.join(', ')}`);
    }
    return jasperError(400, jasperErrorCodes.invalidRequest, `Invalid request: ${issue.message}`);
  }
  const edit = parsed.data;
  const { effectiveDate: _, ...changes } = edit;
  if (Object.values(changes).every((value) => value === undefined)) {
    return jasperError(400, jasperErrorCodes.noEditableField, 'At least one field to edit is required');
  }
  const dateRefusal = effectiveDateRefusal(edit.effectiveDate);
  if (dateRefusal !== undefined) return dateRefusal;
  const state = nextState(line.state, edit.status);
  if (typeof state !== 'string') return state;
  const planned = resolvePlans(plans, line, edit);
  if ('status' in planned) return planned;
  const next = applyEdit(line, edit, state, planned, customFields);
  const trail = auditEntries(line, next, edit, customFields, basicUser(request));
  store.put(
    JSON.stringify(next) === JSON.stringify(line) && trail.length === 0
      ? line
      : { ...next, dateUpdated: nowIso(), auditTrail: [...trail, ...line.auditTrail] },
  );
  return { status: 200, body: { iccid: line.iccid } };
};

/** What the edit changed, and the listed custom fields it set to a value not on their list (Error). */
const auditEntries = (
  before: JasperSimLine,
  after: JasperSimLine,
  edit: JasperEdit,
  customFields: NonNullable<JasperSimulatorOptions['customFields']>,
  userName: string,
): JasperAuditEntry[] => {
  const effectiveDate = nowIso();
  const entry = (field: string, priorValue: string | null, value: string | null, ok = true) => ({
    field,
    priorValue,
    value,
    effectiveDate,
    status: ok ? ('Executed' as const) : ('Error' as const),
    userName,
  });
  const entries: JasperAuditEntry[] = [];
  if (before.state !== after.state) entries.push(entry(auditFieldNames.status, before.state, after.state));
  for (const field of ['ratePlan', 'communicationPlan'] as const) {
    if (before[field] !== after[field])
      entries.push(entry(auditFieldNames[field], before[field], after[field]));
  }
  for (const name of customFieldNames) {
    const asked = edit[name];
    const prior = before.customFields[name] ?? null;
    if (asked === undefined || asked === prior) continue;
    const label = customFields[name]?.label ?? name;
    entries.push(entry(label, prior, asked, after.customFields[name] === asked));
  }
  return entries;
};

/** The Basic user the request came as (authentication has already checked it). */
const basicUser = (request: SimRequest): string => {
  const encoded = /^Basic\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1] ?? '';
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  return decoded.slice(0, Math.max(0, decoded.indexOf(':')));
};

const effectiveDateRefusal = (effectiveDate: string | undefined): SimResponse | undefined => {
  if (effectiveDate === undefined) return undefined;
  const at = Date.parse(effectiveDate);
  if (Number.isNaN(at)) {
    return jasperError(400, jasperErrorCodes.invalidEffectiveDate, `Invalid effectiveDate ${effectiveDate}`);
  }
  if (at > Date.now() + maxEffectiveDaysAhead * 86_400_000) {
    return jasperError(
      400,
      jasperErrorCodes.invalidEffectiveDate,
      `effectiveDate cannot be more than ${maxEffectiveDaysAhead} days in the future`,
    );
  }
  return undefined;
};

/** The status the line will have, or the refusal of the asked one. */
const nextState = (from: JasperStatus, to: string | undefined): JasperStatus | SimResponse => {
  if (to === undefined) return from;
  const target = statusSchema.safeParse(to);
  if (!target.success) return jasperError(400, jasperErrorCodes.invalidStatus, `Invalid status ${to}`);
  return canMoveJasperLine(from, target.data)
    ? target.data
    : jasperError(400, jasperErrorCodes.invalidStatusChange, `Invalid status change from ${from} to ${to}`);
};

interface Plans {
  ratePlan: string | null;
  communicationPlan: string | null;
}

/**
 * A new rate plan that does not allow the line's communication plan brings its own first one; a
 * communication plan must belong to the rate plan the line will have.
 */
const resolvePlans = (
  plans: Map<string, string[]>,
  line: JasperSimLine,
  edit: JasperEdit,
): Plans | SimResponse => {
  const ratePlan = edit.ratePlan ?? line.ratePlan;
  const allowed = plans.get(ratePlan ?? '');
  if (edit.ratePlan !== undefined && allowed === undefined) {
    return jasperError(400, jasperErrorCodes.unknownRatePlan, `Rate plan ${edit.ratePlan} does not exist`);
  }
  if (edit.communicationPlan !== undefined) {
    return allowed?.includes(edit.communicationPlan)
      ? { ratePlan, communicationPlan: edit.communicationPlan }
      : jasperError(
          400,
          jasperErrorCodes.communicationPlanNotAllowed,
          `Communication plan ${edit.communicationPlan} is not allowed with rate plan ${ratePlan ?? '(none)'}`,
        );
  }
  const keeps = line.communicationPlan !== null && allowed?.includes(line.communicationPlan);
  return {
    ratePlan,
    communicationPlan: keeps || allowed === undefined ? line.communicationPlan : allowed[0],
  };
};

/** A listed custom field keeps its value when asked for one not on its list (the audit trail says Error). */
const applyEdit = (
  line: JasperSimLine,
  edit: JasperEdit,
  state: JasperStatus,
  plans: Plans,
  listed: NonNullable<JasperSimulatorOptions['customFields']>,
): JasperSimLine => {
  const customFields = { ...line.customFields };
  for (const name of customFieldNames) {
    const value = edit[name];
    const allowed = listed[name]?.values;
    if (value !== undefined && (allowed === undefined || allowed.includes(value))) customFields[name] = value;
  }
  const next: JasperSimLine = {
    ...line,
    ...plans,
    state,
    customer: edit.customer ?? line.customer,
    deviceID: edit.deviceID ?? line.deviceID,
    modemID: edit.modemID ?? line.modemID,
    overageLimitOverride: edit.overageLimitOverride ?? line.overageLimitOverride,
    ipAddress: edit.ipv4Address ?? line.ipAddress,
    ipv6Address: edit.ipv6Address ?? line.ipv6Address,
    customFields,
    effectiveDate: edit.effectiveDate === undefined ? line.effectiveDate : toIso(edit.effectiveDate),
  };
  return next.state === 'ACTIVATED' && line.state !== 'ACTIVATED' ? activated(next) : next;
};

/** First activation stamps `dateActivated`; a line without a number gets one (and its IMSI). */
const activated = (line: JasperSimLine): JasperSimLine => {
  // Derived from the ICCID, so every run of a test or demo gives the same numbers.
  const serial = line.iccid.slice(-10);
  return {
    ...line,
    dateActivated: line.dateActivated ?? nowIso(),
    msisdn: line.msisdn ?? `88235${serial}`,
    imsi: line.imsi ?? `90116${serial}`,
  };
};

const searchDevices = (store: DeviceStore<JasperSimLine>, query: URLSearchParams): SimResponse => {
  const parsed = searchQuerySchema.safeParse(Object.fromEntries(query));
  if (!parsed.success) {
    return jasperError(400, jasperErrorCodes.invalidQueryParameter, parsed.error.issues[0].message);
  }
  const { modifiedSince, modifiedTill, status, pageSize, pageNumber } = parsed.data;
  const since = Date.parse(modifiedSince);
  const till = modifiedTill === undefined ? Number.POSITIVE_INFINITY : Date.parse(modifiedTill);
  const matching = store
    .list()
    .filter((line) => {
      const updated = Date.parse(line.dateUpdated);
      return updated >= since && updated <= till && (status === undefined || line.state === status);
    })
    .sort((a, b) => (a.iccid < b.iccid ? -1 : a.iccid > b.iccid ? 1 : 0));
  const start = (pageNumber - 1) * pageSize;
  return {
    status: 200,
    body: {
      pageNumber,
      devices: matching.slice(start, start + pageSize).map((line) => ({
        iccid: line.iccid,
        status: line.state,
        ratePlan: line.ratePlan ?? '',
        communicationPlan: line.communicationPlan ?? '',
      })),
      lastPage: start + pageSize >= matching.length,
    },
  };
};

/** Get Device Usage (carrier-apis §2.2): the cycle's usage beside the line's identifiers and plans. */
const cycleUsage = (line: JasperSimLine) => ({
  iccid: line.iccid,
  imsi: line.imsi ?? '',
  msisdn: line.msisdn ?? '',
  imei: line.imei ?? '',
  status: line.state,
  ratePlan: line.ratePlan ?? '',
  communicationPlan: line.communicationPlan ?? '',
  ctdDataUsage: line.ctdDataUsage,
  ctdSMSUsage: 0,
  ctdVoiceUsage: 0,
  ctdSessionCount: 0,
  overageLimitReached: false,
  overageLimitOverride: line.overageLimitOverride ?? 'DEFAULT',
});

/**
 * Get Device Details (carrier-apis §2.2). Fields the documentation marks nullable are null when unset;
 * the other strings are empty, as in Cisco's example.
 */
const deviceDetails = (line: JasperSimLine) => ({
  iccid: line.iccid,
  imsi: line.imsi ?? '',
  msisdn: line.msisdn ?? '',
  imei: line.imei ?? '',
  status: line.state,
  ratePlan: line.ratePlan ?? '',
  communicationPlan: line.communicationPlan ?? '',
  customer: line.customer,
  endConsumerId: null,
  dateActivated: jasperTime(line.dateActivated),
  dateAdded: jasperTime(line.dateAdded),
  dateUpdated: jasperTime(line.dateUpdated),
  dateShipped: jasperTime(line.dateAdded),
  accountId: line.accountId,
  fixedIPAddress: line.ipAddress,
  fixedIpv6Address: line.ipv6Address,
  ...Object.fromEntries(customFieldNames.map((name) => [name, line.customFields[name] ?? ''])),
  simNotes: null,
  deviceID: line.deviceID,
  modemID: line.modemID ?? '',
  globalSimType: '',
  eid: line.eid,
  simProfileId: '',
});

/** Upsert: a seed changes only the fields it gives; a rate plan without a communication plan brings its first. */
const seededLine = (plans: Map<string, string[]>, seed: JasperSeed, existing: JasperSimLine | undefined) => {
  const now = nowIso();
  const base = existing ?? newLine(seed.iccid, now);
  const given = <T>(value: T | undefined, current: T) => (value === undefined ? current : value);
  const ratePlan = given(seed.ratePlan, base.ratePlan);
  const defaultCommunicationPlan = seed.ratePlan
    ? (plans.get(seed.ratePlan)?.[0] ?? null)
    : base.communicationPlan;
  const line: JasperSimLine = {
    ...base,
    imei: given(seed.imei, base.imei),
    msisdn: given(seed.msisdn, base.msisdn),
    eid: given(seed.eid, base.eid),
    ipAddress: given(seed.ipAddress, base.ipAddress),
    ctdDataUsage: seed.ctdDataUsage ?? base.ctdDataUsage,
    state: seed.state ?? seed.status ?? base.state,
    ratePlan,
    communicationPlan: given(seed.communicationPlan, defaultCommunicationPlan),
    dateUpdated: now,
  };
  return line.state === 'ACTIVATED' ? activated(line) : line;
};

const newLine = (iccid: string, now: string): JasperSimLine => ({
  iccid,
  state: 'INVENTORY',
  imsi: null,
  imei: null,
  msisdn: null,
  eid: null,
  ratePlan: null,
  communicationPlan: null,
  ipAddress: null,
  ipv6Address: null,
  customer: null,
  deviceID: null,
  modemID: null,
  overageLimitOverride: null,
  customFields: {},
  accountId,
  dateAdded: now,
  dateUpdated: now,
  dateActivated: null,
  effectiveDate: null,
  auditTrail: [],
  ctdDataUsage: 0,
});

const nowIso = () => new Date().toISOString();
const toIso = (value: string) => new Date(value).toISOString();

/** Control Center writes times as `yyyy-MM-dd HH:mm:ss.SSS+0000`, not ISO-8601. */
const jasperTime = (iso: string | null) =>
  iso === null ? null : `${iso.slice(0, 10)} ${iso.slice(11, 23)}+0000`;

function isDateTime(value: string): boolean {
  return !Number.isNaN(Date.parse(value));
}

function numbered(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, index) => `${prefix}${index + 1}`);
}
