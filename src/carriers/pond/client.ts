import { z } from 'zod';
import type { CarrierAccount } from '../../core/flow.ts';
import { bodyCases, incoming, outgoing } from '../body-case.ts';
import type { CallContext } from '../http/call.ts';
import type { CarrierHttpClient } from '../http/client.ts';

export const pondCredentialsSchema = z.object({ apiKey: z.string().min(1) });

/** A path template: `{distributorId}`, `{iccid}` and `{packageId}` are filled in, escaped. */
const pathTemplate = z.string().startsWith('/');

/**
 * The paths POND is called on, as the original called them (carrier-apis §4): everything under the
 * distributor, packages added to a device and their status set by package id.
 */
export const pondDefaultPaths = {
  devices: '/{distributorId}/devices',
  deviceStatus: '/{distributorId}/devices/{iccid}/status',
  packages: '/{distributorId}/devices/{iccid}/packages',
  packageStatus: '/{distributorId}/packages/{packageId}/status',
};

/**
 * POND publishes no API documentation (carrier-apis §4): what AMOP's code does not show (the API key
 * header's name, the paths, PUT or POST for package status, the bodies' key casing) is a setting,
 * defaulting to what the original sent.
 */
export const pondSettingsSchema = z
  .object({
    /** Every default path starts with the distributor id. */
    distributorId: z.string().trim().min(1),
    /** Its name must look secret (`key`, `token`, `auth`), so that the audit log redacts the key. */
    apiKeyHeader: z
      .string()
      .regex(/^[A-Za-z0-9-]+$/, 'a header name')
      .regex(/key|token|auth/i, 'a header name containing key, token or auth')
      .default('x-api-key'),
    /** AMOP sends POST; the real API may want PUT. */
    packageStatusMethod: z.enum(['POST', 'PUT']).default('POST'),
    paths: z
      .object({
        devices: pathTemplate.default(pondDefaultPaths.devices),
        deviceStatus: pathTemplate.default(pondDefaultPaths.deviceStatus),
        packages: pathTemplate.default(pondDefaultPaths.packages),
        packageStatus: pathTemplate.default(pondDefaultPaths.packageStatus),
      })
      .default(pondDefaultPaths),
    bodyCase: z.enum(bodyCases).default('camel'),
  })
  .loose();
export type PondSettings = z.infer<typeof pondSettingsSchema>;

/** POND's error envelope as the simulator answers it; the real one is unconfirmed. */
export const pondErrorSchema = z.object({
  error: z.object({ code: z.string().optional(), message: z.string().optional() }).loose(),
});

export const pondPackageStatuses = ['PENDING', 'ACTIVE', 'TERMINATED'] as const;

const packageSchema = z
  .object({
    packageId: z.string().min(1),
    packageTypeId: z.string().min(1),
    status: z.enum(pondPackageStatuses),
    createdAt: z.string().nullish(),
  })
  .loose();
export type PondPackage = z.infer<typeof packageSchema>;

/** The line's ACTIVE packages, oldest first (POND lists packages oldest first). */
export const activePackages = (packages: PondPackage[]): PondPackage[] =>
  packages.filter((candidate) => candidate.status === 'ACTIVE');

const packageListSchema = z.object({ items: z.array(packageSchema) }).loose();

const deviceStatusSchema = z.object({ iccid: z.string(), status: z.string() }).loose();
export type PondDeviceStatus = z.infer<typeof deviceStatusSchema>;

const devicePageSchema = z
  .object({
    total: z.number().int().min(0),
    items: z.array(
      z
        .object({
          iccid: z.string(),
          status: z.string(),
          imei: z.string().nullish(),
          msisdn: z.string().nullish(),
        })
        .loose(),
    ),
  })
  .loose();
export type PondDevicePage = z.infer<typeof devicePageSchema>;

/** POND lists take `?offset=&count=`; 100 is the largest page the simulator serves (10 by default). */
export const POND_PAGE_SIZE = 100;

/** POND IoT (Pod Group): carrier-apis §4. Every path is under `/{distributorId}`. */
export class PondClient {
  readonly #http: CarrierHttpClient;
  readonly settings: PondSettings;

  constructor(account: CarrierAccount, http: CarrierHttpClient) {
    this.#http = http;
    this.settings = pondSettingsSchema.parse(account.settings);
  }

  /** The account's path for `name`, its placeholders filled in. */
  #path(name: keyof PondSettings['paths'], values: { iccid?: string; packageId?: string } = {}): string {
    const filled = { distributorId: this.settings.distributorId, ...values };
    return this.settings.paths[name].replace(
      /\{(distributorId|iccid|packageId)\}/g,
      (_, key: keyof typeof filled) => encodeURIComponent(filled[key] ?? ''),
    );
  }

  #in<T extends z.ZodType>(schema: T) {
    return incoming(schema, this.settings.bodyCase);
  }

  async listDevices(offset: number, context: CallContext): Promise<PondDevicePage> {
    const response = await this.#http.send(
      {
        action: 'list_devices',
        method: 'GET',
        path: this.#path('devices'),
        query: { offset, count: POND_PAGE_SIZE },
        responseSchema: this.#in(devicePageSchema),
      },
      context,
    );
    return response.body;
  }

  async getDeviceStatus(iccid: string, context: CallContext): Promise<PondDeviceStatus> {
    const response = await this.#http.send(
      {
        action: 'get_device_status',
        method: 'GET',
        path: this.#path('deviceStatus', { iccid }),
        responseSchema: this.#in(deviceStatusSchema),
      },
      context,
    );
    return response.body;
  }

  /** Enables or disables all of the line's services; setting the state it has changes nothing. */
  async setDeviceStatus(iccid: string, enabled: boolean, context: CallContext): Promise<PondDeviceStatus> {
    const response = await this.#http.send(
      {
        action: 'set_device_status',
        method: 'POST',
        path: this.#path('deviceStatus', { iccid }),
        body: outgoing({ enabled }, this.settings.bodyCase),
        responseSchema: this.#in(deviceStatusSchema),
        idempotent: true,
      },
      context,
    );
    return response.body;
  }

  /** Every package of the line, whatever its status, oldest first. */
  async listPackages(iccid: string, context: CallContext): Promise<PondPackage[]> {
    const response = await this.#http.send(
      {
        action: 'list_packages',
        method: 'GET',
        path: this.#path('packages', { iccid }),
        responseSchema: this.#in(packageListSchema),
      },
      context,
    );
    return response.body.items;
  }

  /**
   * Adds a PENDING package. Sending it twice adds two packages, so it is not repeated in process after
   * an unclear failure: the flow looks for the package first (ADR 0003).
   */
  async addPackage(iccid: string, packageTypeId: string, context: CallContext): Promise<PondPackage> {
    const response = await this.#http.send(
      {
        action: 'add_package',
        method: 'POST',
        path: this.#path('packages', { iccid }),
        body: outgoing({ packageTypeId }, this.settings.bodyCase),
        responseSchema: this.#in(packageSchema),
        idempotent: false,
      },
      context,
    );
    return response.body;
  }

  /** Moving a package to the status it has changes nothing, so a repeat is harmless. */
  async setPackageStatus(
    packageId: string,
    packageStatus: 'ACTIVE' | 'TERMINATED',
    context: CallContext,
  ): Promise<PondPackage> {
    const response = await this.#http.send(
      {
        action: 'set_package_status',
        method: this.settings.packageStatusMethod,
        path: this.#path('packageStatus', { packageId }),
        body: outgoing({ packageStatus }, this.settings.bodyCase),
        responseSchema: this.#in(packageSchema),
        idempotent: true,
      },
      context,
    );
    return response.body;
  }
}
