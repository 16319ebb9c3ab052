import { z } from 'zod';
import type { CarrierAccount } from '../../core/flow.ts';
import type { CallContext } from '../http/call.ts';
import type { CarrierHttpClient } from '../http/client.ts';
import { outboundPathSchema } from '../http/outbound-url.ts';

export const telegenceCredentialsSchema = z.object({
  appId: z.string().min(1),
  appSecret: z.string().min(1),
});

/**
 * AT&T does not publish the activation and IP paths (carrier-apis §3.2): each is an account setting,
 * defaulting to the paths our simulator serves. The line-config path is the one seen in the field.
 */
export const telegenceSettingsSchema = z
  .object({
    activationPath: outboundPathSchema.default('/sp/mobility/serviceactivation/api/v1/activations'),
    linePath: outboundPathSchema.default('/sp/mobility/lineconfig/api/v1/service'),
    lineListPath: outboundPathSchema.default('/sp/mobility/api/v1/account'),
    billingAccountPath: outboundPathSchema.default('/billingaccounts'),
    ipReservationPath: outboundPathSchema.default('/sp/mobility/ipaddress/api/v1/reservations'),
    ipProvisioningPath: outboundPathSchema.default('/sp/mobility/ipaddress/api/v1/provisioning'),
    ipStatusPath: outboundPathSchema.default('/sp/mobility/ipaddress/api/v1/provisioning/status'),
    /** Defaults for static IP rows that do not name their own. */
    defaultPdpName: z.string().min(1).default('M2M.STATIC'),
    defaultApn: z.string().min(1).default('m2m.static.att.com'),
    /** `technologyType` of an equipment change when the line's own detail does not say it. */
    defaultTechnologyType: z.string().trim().min(1).optional(),
  })
  .loose();
export type TelegenceSettings = z.infer<typeof telegenceSettingsSchema>;

/** AT&T's error bodies carry one of these (carrier-apis §3.3). */
export const telegenceErrorSchema = z
  .object({
    errorDescription: z.string().optional(),
    responseMessage: z.string().optional(),
    description: z.string().optional(),
    message: z.string().optional(),
  })
  .loose();

const characteristic = z.object({ name: z.string(), value: z.unknown() });
export type Characteristic = { name: string; value: string };

export const lineDetailSchema = z
  .object({
    subscriberNumber: z.string().optional(),
    serviceCharacteristic: z.array(characteristic),
  })
  .loose();
export type TelegenceLineDetail = z.infer<typeof lineDetailSchema>;

const activationElementSchema = z
  .object({
    id: z.string().min(1),
    interactionStatus: z.string().nullish(),
    service: z
      .object({
        name: z.string().nullish(),
        status: z.string().nullish(),
        subscriberNumber: z.string().nullish(),
        error: z.object({ code: z.string().nullish(), description: z.string().nullish() }).loose().nullish(),
        serviceCharacteristic: z.array(characteristic).nullish(),
      })
      .loose(),
  })
  .loose();
export type TelegenceActivationElement = z.infer<typeof activationElementSchema>;
const activationListSchema = z.array(activationElementSchema).min(1);

const billingAccountSchema = z
  .object({
    id: z.string(),
    status: z.string(),
    foundationAccountNumber: z.string().nullish(),
    billCycleDay: z.number().int().min(1).max(31).nullish(),
  })
  .loose();
export type TelegenceBillingAccount = z.infer<typeof billingAccountSchema>;

const ipReservationSchema = z
  .object({
    ipAddressRecords: z.array(z.object({ ipAddress: z.string() }).loose()),
    message: z.string().nullish(),
  })
  .loose();

const provisioningSchema = z.object({ message: z.string() }).loose();

const ipStatusSchema = z.array(
  z
    .object({
      batchId: z.string().nullish(),
      subscriberNumber: z.string(),
      profileCheck: z.string().nullish(),
      ipReservation: z.string().nullish(),
      profileUpdate: z.string().nullish(),
      ipAddressRecord: z.object({ ipAddress: z.string().nullish() }).loose().nullish(),
      message: z.string().nullish(),
    })
    .loose(),
);
export type TelegenceIpStatus = z.infer<typeof ipStatusSchema>[number];

/**
 * The `category` and `serviceSpecification` of a mobility service, as AT&T's line objects carry them
 * and as the activation request must (the original sent these: original §3.7, `Category{"",""}`,
 * `ServiceSpecification{Id: "12", Href: "Mobility Services"}`).
 */
export const telegenceMobilityService = {
  category: { id: '', name: '' },
  serviceSpecification: { id: '12', href: 'Mobility Services' },
} as const;

/** AT&T writes dates as `yyyy-mm-ddZ` (the original's IP provisioning and Rev.io dates too). */
export const telegenceDate = (isoDay: string): string => `${isoDay.slice(0, 10)}Z`;

/** A date as AT&T writes it, or as ISO does: `yyyy-mm-dd` with or without the trailing `Z`. */
export const telegenceDateInput = z
  .string()
  .trim()
  .regex(/^\d{4}-\d{2}-\d{2}Z?$/, 'a date as yyyy-mm-dd (or yyyy-mm-ddZ, as AT&T writes it)')
  .transform((value) => value.slice(0, 10))
  .pipe(z.iso.date());

/** One element of the activation POST: a TM Forum-style service request (carrier-apis §3.3). */
export interface TelegenceActivationRequest {
  billingAccount: { id: string };
  relatedParty: Array<{
    role: 'subscriber';
    firstName: string;
    lastName: string;
    address?: Record<string, string>;
  }>;
  service: {
    name: '';
    category: { id: string; name: string };
    serviceSpecification: { id: string; href: string };
    serviceQualification?: { id: string };
    serviceCharacteristic: Characteristic[];
  };
}

export interface TelegenceIpSubscriber {
  subscriberNumber: string;
  ipAddressRecord: { ipAddress: string };
  lteIndicator: 'Y' | 'N';
  defaultAPNIndicator: 'Y' | 'N';
  accessPointName: string;
  effectiveDate: string;
}

/** The AT&T Telegence (APEX mobility) calls bulk changes make: carrier-apis §3. */
export class TelegenceClient {
  readonly #http: CarrierHttpClient;
  readonly settings: TelegenceSettings;

  constructor(account: CarrierAccount, http: CarrierHttpClient) {
    this.#http = http;
    this.settings = telegenceSettingsSchema.parse(account.settings);
  }

  /** Posts up to 200 activations; every element of the answer carries the request's one id. */
  async activate(requests: TelegenceActivationRequest[], context: CallContext): Promise<string> {
    const response = await this.#http.send(
      {
        action: 'activate',
        method: 'POST',
        path: this.settings.activationPath,
        body: requests,
        responseSchema: activationListSchema,
        idempotent: false,
      },
      context,
    );
    return response.body[0].id;
  }

  async activationStatus(id: string, context: CallContext): Promise<TelegenceActivationElement[]> {
    const response = await this.#http.send(
      {
        action: 'activation_status',
        method: 'GET',
        path: `${this.settings.activationPath}/${encodeURIComponent(id)}`,
        responseSchema: activationListSchema,
      },
      context,
    );
    return response.body;
  }

  async getLine(subscriberNumber: string, context: CallContext): Promise<TelegenceLineDetail> {
    const response = await this.#http.send(
      {
        action: 'get_line',
        method: 'GET',
        path: `${this.settings.linePath}/${encodeURIComponent(subscriberNumber)}`,
        responseSchema: lineDetailSchema,
      },
      context,
    );
    return response.body;
  }

  /** PATCH is not repeated in process after an unclear failure: the engine reads the line first. */
  async updateLine(
    subscriberNumber: string,
    update: { effectiveDate?: string; serviceCharacteristic: Characteristic[] },
    context: CallContext,
  ): Promise<TelegenceLineDetail> {
    const response = await this.#http.send(
      {
        action: 'update_line',
        method: 'PATCH',
        path: `${this.settings.linePath}/${encodeURIComponent(subscriberNumber)}`,
        body: update,
        responseSchema: lineDetailSchema,
        idempotent: false,
      },
      context,
    );
    return response.body;
  }

  async billingAccount(ban: string, context: CallContext): Promise<TelegenceBillingAccount> {
    const response = await this.#http.send(
      {
        action: 'billing_account',
        method: 'GET',
        path: `${this.settings.billingAccountPath}/${encodeURIComponent(ban)}`,
        responseSchema: billingAccountSchema,
      },
      context,
    );
    return response.body;
  }

  /** One page of the account's lines; paging travels in headers (carrier-apis §3.2). */
  async listLines(
    page: number,
    context: CallContext,
  ): Promise<{ lines: TelegenceLineDetail[]; pageTotal: number }> {
    const response = await this.#http.send(
      {
        action: 'list_lines',
        method: 'GET',
        path: this.settings.lineListPath,
        headers: { 'current-page': String(page), 'page-size': String(TELEGENCE_LIST_PAGE_SIZE) },
        responseSchema: z.array(lineDetailSchema),
      },
      context,
    );
    const total = Number(headerText(response.headers['page-total']));
    return { lines: response.body, pageTotal: Number.isFinite(total) ? total : page };
  }

  /** Reserves addresses for a PDP; fewer (or none) come back when the pool runs dry. */
  async reserveIps(pdpName: string, quantity: number, context: CallContext): Promise<string[]> {
    const response = await this.#http.send(
      {
        action: 'reserve_ips',
        method: 'POST',
        path: this.settings.ipReservationPath,
        body: { pdpName, ipQuantity: quantity },
        responseSchema: ipReservationSchema,
        idempotent: false,
      },
      context,
    );
    return response.body.ipAddressRecords.map((record) => record.ipAddress);
  }

  /** Submits up to 10 lines; AT&T names the batch only as the last word of its message. */
  async provisionIps(
    request: { pdpName: string; billingAccountNumber: string; subscriber: TelegenceIpSubscriber[] },
    context: CallContext,
  ): Promise<string> {
    const response = await this.#http.send(
      {
        action: 'provision_ips',
        method: 'POST',
        path: this.settings.ipProvisioningPath,
        body: request,
        responseSchema: provisioningSchema,
        idempotent: false,
      },
      context,
    );
    const batchId = response.body.message.trim().split(/\s+/).at(-1) ?? '';
    if (!uuidPattern.test(batchId)) {
      throw new Error(`AT&T accepted the IP provisioning but named no batch id: "${response.body.message}"`);
    }
    return batchId;
  }

  async ipStatus(
    by: { batchId: string } | { subscriberNumber: string },
    context: CallContext,
  ): Promise<TelegenceIpStatus[]> {
    const response = await this.#http.send(
      {
        action: 'ip_status',
        method: 'GET',
        path: this.settings.ipStatusPath,
        headers: 'batchId' in by ? { 'batch-id': by.batchId } : { 'subscriber-number': by.subscriberNumber },
        responseSchema: ipStatusSchema,
      },
      context,
    );
    return response.body;
  }
}

/** AMOP's page size for the line list (carrier-apis §3.2). */
export const TELEGENCE_LIST_PAGE_SIZE = 250;

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const headerText = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

/** A characteristic's value by name, as text. */
export const characteristicValue = (
  characteristics: ReadonlyArray<{ name: string; value: unknown }> | null | undefined,
  name: string,
): string | undefined => {
  const value = characteristics?.find((entry) => entry.name === name)?.value;
  return value === undefined || value === null ? undefined : String(value);
};

/** The `offeringCodeN` features a line carries. */
export const featureCodes = (characteristics: ReadonlyArray<{ name: string; value: unknown }>): string[] =>
  characteristics.filter((entry) => /^offeringCode\d+$/.test(entry.name)).map((entry) => String(entry.value));
