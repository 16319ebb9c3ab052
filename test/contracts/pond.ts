import { z } from 'zod';
import type { Contract } from './contract.ts';

/**
 * POND IoT. POND publishes no API documentation: this is the contract as AMOP's `PondApiService` and its
 * bulk-change code use it (carrier-apis §4), on the default paths, header and casing of our settings.
 * What AMOP does not show (the device status body, the key header's name) is marked in the carrier page.
 * Requests are strict.
 */
const auth = z.object({ 'x-api-key': z.string().min(1) });
const json = auth.extend({ 'content-type': z.string().startsWith('application/json') });
const packageStatuses = ['PENDING', 'ACTIVE', 'TERMINATED'] as const;
const pondPackage = z
  .object({ packageId: z.string().min(1), packageTypeId: z.string().min(1), status: z.enum(packageStatuses) })
  .loose();
const deviceStatus = z.object({ iccid: z.string(), status: z.string() }).loose();

export const pondContract: Contract = {
  carrier: 'pond',
  errors: z.object({ error: z.object({ code: z.string(), message: z.string() }).loose() }),
  operations: [
    {
      name: 'list_devices',
      method: 'GET',
      path: '/:distributorId/devices',
      source: 'AMOP list calls: ?offset=&count=, total for paging',
      client: true,
      headers: auth,
      query: z.strictObject({ offset: z.string().regex(/^\d+$/), count: z.string().regex(/^\d+$/) }),
      responses: {
        200: z
          .object({
            total: z.number().int(),
            items: z.array(z.object({ iccid: z.string(), status: z.string() }).loose()),
          })
          .loose(),
      },
    },
    {
      name: 'get_device_status',
      method: 'GET',
      path: '/:distributorId/devices/:iccid/status',
      source: 'AMOP PondGetDeviceStatusResponse (path unconfirmed)',
      client: true,
      headers: auth,
      responses: { 200: deviceStatus },
    },
    {
      name: 'set_device_status',
      method: 'POST',
      path: '/:distributorId/devices/:iccid/status',
      source: 'AMOP PondUpdateServiceStatusRequest: enable or disable all services (body unconfirmed)',
      client: true,
      headers: json,
      request: z.strictObject({ enabled: z.boolean() }),
      responses: { 200: deviceStatus },
    },
    {
      name: 'list_packages',
      method: 'GET',
      path: '/:distributorId/devices/:iccid/packages',
      source: 'AMOP: the SIM’s packages',
      client: true,
      headers: auth,
      responses: { 200: z.object({ items: z.array(pondPackage) }).loose() },
    },
    {
      name: 'add_package',
      method: 'POST',
      path: '/:distributorId/devices/:iccid/packages',
      source: 'AMOP UpdatePondCarrierRatePlanForDevices: {packageTypeId} → the package',
      client: true,
      headers: json,
      request: z.strictObject({ packageTypeId: z.string().min(1) }),
      responses: { 200: pondPackage, 201: pondPackage },
    },
    {
      name: 'set_package_status',
      method: 'POST',
      path: '/:distributorId/packages/:packageId/status',
      source: 'AMOP ProcessPondUpdateAsync: {packageStatus: ACTIVE | TERMINATED}, POST',
      client: true,
      headers: json,
      request: z.strictObject({ packageStatus: z.enum(['ACTIVE', 'TERMINATED']) }),
      responses: { 200: pondPackage },
    },
  ],
};
