import { z } from 'zod';
import type { CarrierAccount } from '../../core/flow.ts';
import type { CallContext } from '../http/call.ts';
import type { CarrierHttpClient } from '../http/client.ts';
import { outboundPathSchema } from '../http/outbound-url.ts';

export const jasperCredentialsSchema = z.object({
  username: z.string().min(1),
  apiKey: z.string().min(1),
});

export const jasperVariants = ['jasper', 'pod19', 'tmobile_jasper', 'rogers'] as const;

/** The account's own device fields (Edit Device Details `accountCustom1..10`). */
export const jasperAccountCustomFields = [
  'accountCustom1',
  'accountCustom2',
  'accountCustom3',
  'accountCustom4',
  'accountCustom5',
  'accountCustom6',
  'accountCustom7',
  'accountCustom8',
  'accountCustom9',
  'accountCustom10',
] as const;
export type JasperAccountCustomField = (typeof jasperAccountCustomFields)[number];

export const jasperSettingsSchema = z
  .object({
    variant: z.enum(jasperVariants).default('jasper'),
    /** The REST root under the account's base URL. */
    apiPath: outboundPathSchema.default('/rws/api/v1'),
    /** Where the inventory sync starts reading: lines changed since then (Control Center needs a date). */
    inventorySince: z.iso.date().default('2000-01-01'),
    /**
     * Edit Device Details has no username field: the account keeps the line's username in one of its
     * custom fields (docs/carriers/jasper.md, `username_cost_center_change`).
     */
    usernameField: z.enum(jasperAccountCustomFields).default('accountCustom1'),
    /** The name Control Center's audit trail gives that field (POD19's check reads it). */
    usernameAuditLabel: z.string().trim().min(1).default('Username'),
    /**
     * The rate plans a line may be moved to before it is deactivated, cheapest first, each with its
     * data allowance (null: unlimited): the `cheapestPlanBeforeDeactivation` post-step picks from them.
     */
    deactivationRatePlans: z
      .array(z.object({ ratePlan: z.string().trim().min(1), dataMb: z.number().nonnegative().nullable() }))
      .default([]),
  })
  .loose();

/** Jasper's error envelope: `{errorMessage, errorCode}`, the code sometimes absent. */
export const jasperErrorSchema = z.object({
  errorMessage: z.string().optional(),
  errorCode: z.string().optional(),
});

const deviceSchema = z
  .object({
    iccid: z.string(),
    status: z.string(),
    ratePlan: z.string().nullish(),
    communicationPlan: z.string().nullish(),
    msisdn: z.string().nullish(),
    imei: z.string().nullish(),
    imsi: z.string().nullish(),
    fixedIPAddress: z.string().nullish(),
    ...(Object.fromEntries(jasperAccountCustomFields.map((field) => [field, z.string().nullish()])) as Record<
      JasperAccountCustomField,
      z.ZodOptional<z.ZodNullable<z.ZodString>>
    >),
  })
  .loose();
export type JasperDevice = z.infer<typeof deviceSchema>;

const searchPageSchema = z.object({
  pageNumber: z.coerce.number().int(),
  lastPage: z.boolean(),
  devices: z.array(
    z
      .object({
        iccid: z.string(),
        status: z.string(),
        ratePlan: z.string().nullish(),
        communicationPlan: z.string().nullish(),
      })
      .loose(),
  ),
});
export type JasperSearchPage = z.infer<typeof searchPageSchema>;

/** Control Center's search pages hold at most 50 lines (carrier-apis §2.2). */
export const JASPER_SEARCH_PAGE_SIZE = 50;

const editResultSchema = z.object({ iccid: z.string() }).loose();

/** Get Device Usage: the cycle-to-date usage (bytes of data) and the line's plans. */
const ctdUsageSchema = z
  .object({
    iccid: z.string(),
    ctdDataUsage: z.coerce.number().nonnegative(),
    ratePlan: z.string().nullish(),
  })
  .loose();
export type JasperCycleUsage = z.infer<typeof ctdUsageSchema>;

/** Get Device Audit History: the line's changes, newest first (Cisco: "Get Device Audit History"). */
const auditTrailSchema = z
  .object({
    iccid: z.string(),
    pageNumber: z.coerce.number().int(),
    lastPage: z.boolean(),
    deviceAuditTrails: z.array(
      z
        .object({
          field: z.string(),
          priorValue: z.string().nullish(),
          value: z.string().nullish(),
          effectiveDate: z.string().nullish(),
          status: z.string().nullish(),
          userName: z.string().nullish(),
        })
        .loose(),
    ),
  })
  .loose();
export type JasperAuditTrailEntry = z.infer<typeof auditTrailSchema>['deviceAuditTrails'][number];

/** The fields of `PUT /devices/{iccid}` (DeviceEditModel) that bulk changes set. */
export type JasperDeviceEdit = {
  status?: string;
  ratePlan?: string;
  communicationPlan?: string;
  effectiveDate?: string;
} & Partial<Record<JasperAccountCustomField, string>>;

/** Cisco IoT Control Center REST (Jasper, POD19, T-Mobile Jasper, Rogers): carrier-apis §2. */
export class JasperClient {
  readonly #http: CarrierHttpClient;
  readonly #root: string;

  constructor(account: CarrierAccount, http: CarrierHttpClient) {
    this.#http = http;
    this.settings = jasperSettingsSchema.parse(account.settings);
    this.#root = this.settings.apiPath.replace(/\/$/, '');
  }

  async getDevice(iccid: string, context: CallContext): Promise<JasperDevice> {
    const response = await this.#http.send(
      {
        action: 'get_device',
        method: 'GET',
        path: `${this.#root}/devices/${encodeURIComponent(iccid)}`,
        responseSchema: deviceSchema,
      },
      context,
    );
    return response.body;
  }

  readonly settings: z.infer<typeof jasperSettingsSchema>;

  /**
   * One page of the lines changed in the window from `modifiedSince` to `modifiedTill` (Search
   * Devices: at most a year each, `yyyy-MM-ddTHH:mm:ss+00:00`).
   */
  async searchDevices(
    options: { modifiedSince: string; modifiedTill: string; pageNumber: number },
    context: CallContext,
  ): Promise<JasperSearchPage> {
    const response = await this.#http.send(
      {
        action: 'search_devices',
        method: 'GET',
        path: `${this.#root}/devices`,
        query: { ...options, pageSize: JASPER_SEARCH_PAGE_SIZE },
        responseSchema: searchPageSchema,
      },
      context,
    );
    return response.body;
  }

  async cycleUsage(iccid: string, context: CallContext): Promise<JasperCycleUsage> {
    const response = await this.#http.send(
      {
        action: 'get_usage',
        method: 'GET',
        path: `${this.#root}/devices/${encodeURIComponent(iccid)}/ctdUsages`,
        responseSchema: ctdUsageSchema,
      },
      context,
    );
    return response.body;
  }

  /** The first page (the newest 50) of the line's changes over the last `daysOfHistory` days. */
  async auditTrail(
    iccid: string,
    daysOfHistory: number,
    context: CallContext,
  ): Promise<JasperAuditTrailEntry[]> {
    const response = await this.#http.send(
      {
        action: 'get_audit_trail',
        method: 'GET',
        path: `${this.#root}/devices/${encodeURIComponent(iccid)}/auditTrails`,
        query: { daysOfHistory, pageNumber: 1 },
        responseSchema: auditTrailSchema,
      },
      context,
    );
    return response.body.deviceAuditTrails;
  }

  /** Success is a 2xx that names the ICCID back, as the original required. */
  async editDevice(iccid: string, edit: JasperDeviceEdit, context: CallContext): Promise<void> {
    await this.#http.send(
      {
        action: 'put_device',
        method: 'PUT',
        path: `${this.#root}/devices/${encodeURIComponent(iccid)}`,
        body: edit,
        responseSchema: editResultSchema,
        // Not re-sent in process after a timeout or 5xx: the engine reads the line first (ADR 0003).
        idempotent: false,
      },
      context,
    );
  }
}
