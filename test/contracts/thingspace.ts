import { z } from 'zod';
import type { Contract } from './contract.ts';

/**
 * Verizon ThingSpace Connectivity Management, as Verizon publishes it: the API reference pages on
 * thingspace.verizon.com and the models of its generated SDK (sdks-io/verizon-apis-js-sdk,
 * `doc/models/*.md`). Requests are strict: a field these pages do not name is an error.
 */
const deviceId = z.object({ id: z.string().min(1), kind: z.string().min(1) });
const accountDeviceList = z.strictObject({
  deviceIds: z.array(deviceId).min(1),
  ipAddress: z.string().optional(),
});
const customFields = z.array(z.strictObject({ key: z.string(), value: z.string() }));
const requestId = z.object({ requestId: z.string().min(1) });

const bearer = z.string().regex(/^Bearer \S+$/);
const m2mHeaders = z.object({ authorization: bearer, 'vz-m2m-token': z.string().min(1) });
const m2mJsonHeaders = m2mHeaders.extend({ 'content-type': z.string().startsWith('application/json') });

/** PlaceOfUse (`place-of-use.md`). */
const placeOfUse = z.strictObject({
  customerName: z.strictObject({
    title: z.string().optional(),
    firstName: z.string().min(1),
    middleName: z.string().optional(),
    lastName: z.string().min(1),
    suffix: z.string().optional(),
  }),
  address: z.strictObject({
    addressLine1: z.string().min(1),
    addressLine2: z.string().optional(),
    city: z.string().min(1),
    state: z.string().min(1),
    zip: z.string().min(1),
    zip4: z.string().optional(),
    country: z.string().min(1),
    phone: z.string().optional(),
    phoneType: z.string().optional(),
    emailAddress: z.string().optional(),
  }),
});

/** Change Device Identifier: the `change4gOption` table of "Uses and Requirements". */
const change4gOptions = [
  'ChangeICCID',
  'ChangeIMEI',
  'ChangeIMEIandICCID',
  'ChangeMSISDN',
  '3Gto4G',
  '4Gto3G',
  'ChangeIMEIandEID',
] as const;
const kindsOf = (ids: z.infer<typeof deviceId>[] | undefined) =>
  new Set((ids ?? []).map((id) => id.kind.toLowerCase()));

const listedDevice = z
  .object({
    deviceIds: z.array(deviceId),
    carrierInformations: z.array(z.object({ state: z.string(), servicePlan: z.string().optional() }).loose()),
    accountName: z.string().optional(),
    ipAddress: z.string().optional(),
    extendedAttributes: z
      .array(z.object({ key: z.string(), value: z.string().optional() }).loose())
      .optional(),
    lastConnectionDate: z.string().optional(),
  })
  .loose();
const deviceList = z.object({ hasMoreData: z.boolean(), devices: z.array(listedDevice) }).loose();

export const thingSpaceContract: Contract = {
  carrier: 'thingspace',
  // "Synchronous Error Messages": the M2M envelope; the WSO2 gateway's `fault`; OAuth's error.
  errors: z.union([
    z.object({ errorCode: z.string().min(1), errorMessage: z.string() }),
    z.object({
      fault: z.object({ code: z.string(), message: z.string(), description: z.string().optional() }),
    }),
    z.object({ error: z.string(), error_description: z.string().optional() }),
  ]),
  operations: [
    {
      name: 'token',
      method: 'POST',
      path: '/api/ts/v1/oauth2/token',
      source: 'Getting Credentials; VZ-SDK oauthAuthorizationController',
      client: true,
      headers: z.object({
        authorization: z.string().regex(/^Basic \S+$/),
        'content-type': z.string().startsWith('application/x-www-form-urlencoded'),
      }),
      request: z.strictObject({ grant_type: z.literal('client_credentials'), scope: z.string().optional() }),
      responses: {
        200: z.object({
          access_token: z.string().min(1),
          token_type: z.string(),
          expires_in: z.coerce.number().positive(),
          scope: z.string().optional(),
        }),
      },
    },
    {
      name: 'login',
      method: 'POST',
      path: '/api/m2m/v1/session/login',
      source: 'Start Connectivity Management Session',
      client: true,
      headers: z.object({ authorization: bearer }),
      request: z.strictObject({ username: z.string().min(1), password: z.string().min(1) }),
      responses: { 200: z.object({ sessionToken: z.string().min(1) }) },
    },
    {
      name: 'add',
      method: 'POST',
      path: '/api/m2m/v1/devices/actions/add',
      source: 'VZ-SDK add-devices-request.md, add-devices-result.md',
      client: true,
      headers: m2mJsonHeaders,
      request: z.strictObject({
        state: z.literal('preactive'),
        devicesToAdd: z.array(accountDeviceList).min(1),
        accountName: z.string().optional(),
        customFields: customFields.optional(),
        groupName: z.string().optional(),
        skuNumber: z.string().optional(),
        smsrOid: z.string().optional(),
      }),
      responses: { 200: z.array(z.object({ deviceIds: z.array(deviceId), response: z.string() })) },
    },
    {
      name: 'activate',
      method: 'POST',
      path: '/api/m2m/v1/devices/actions/activate',
      source: 'Activate Service; VZ-SDK carrier-activate-request.md, place-of-use.md',
      client: true,
      headers: m2mJsonHeaders,
      request: z.strictObject({
        devices: z.array(accountDeviceList).min(1).max(10_000),
        servicePlan: z.string().min(1),
        mdnZipCode: z.string().regex(/^\d{5}$/),
        accountName: z.string().optional(),
        carrierIpPoolName: z.string().optional(),
        carrierName: z.string().optional(),
        costCenterCode: z.string().optional(),
        customFields: customFields.optional(),
        groupName: z.string().optional(),
        leadId: z.string().optional(),
        primaryPlaceOfUse: placeOfUse.optional(),
        publicIpRestriction: z.enum(['restricted', 'unrestricted']).optional(),
        skuNumber: z.string().optional(),
      }),
      responses: { 200: requestId },
    },
    ...(['suspend', 'restore'] as const).map((name) => ({
      name,
      method: 'POST' as const,
      path: `/api/m2m/v1/devices/actions/${name}`,
      source: `${name === 'suspend' ? 'Suspend' : 'Restore'} Service; VZ-SDK carrier-actions-request.md`,
      client: true,
      headers: m2mJsonHeaders,
      request: z.strictObject({
        devices: z.array(accountDeviceList).max(10_000).optional(),
        accountName: z.string().optional(),
        customFields: customFields.optional(),
        groupName: z.string().optional(),
        servicePlan: z.string().optional(),
        withBilling: z.boolean().optional(),
      }),
      responses: { 200: requestId },
    })),
    {
      name: 'deactivate',
      method: 'POST',
      path: '/api/m2m/v1/devices/actions/deactivate',
      source:
        'Deactivate Service (reasonCode: FF the only valid value); VZ-SDK carrier-deactivate-request.md',
      client: true,
      headers: m2mJsonHeaders,
      request: z.strictObject({
        accountName: z.string().min(1),
        devices: z.array(accountDeviceList).min(1).max(10_000),
        reasonCode: z.literal('FF'),
        etfWaiver: z.boolean().optional(),
        customFields: customFields.optional(),
        groupName: z.string().optional(),
        servicePlan: z.string().optional(),
        deleteAfterDeactivation: z.boolean().optional(),
      }),
      responses: { 200: requestId },
    },
    {
      name: 'change_plan',
      method: 'PUT',
      path: '/api/m2m/v1/devices/actions/plan',
      source: 'Change Device Service Plan; VZ-SDK service-plan-update-request.md',
      client: true,
      headers: m2mJsonHeaders,
      request: z.strictObject({
        servicePlan: z.string().min(1),
        accountName: z.string().optional(),
        currentServicePlan: z.string().optional(),
        customFields: customFields.optional(),
        devices: z.array(accountDeviceList).max(10_000).optional(),
        groupName: z.string().optional(),
        carrierIpPoolName: z.string().optional(),
        takeEffect: z.string().optional(),
      }),
      responses: { 200: requestId },
    },
    {
      name: 'change_identifier',
      method: 'PUT',
      path: '/api/m2m/v1/devices/:serviceType/actions/deviceId',
      source: 'Change Device Identifier (the change4gOption table); VZ-SDK change-device-id-request.md',
      client: true,
      headers: m2mJsonHeaders,
      request: z
        .strictObject({
          deviceIds: z.array(deviceId).min(1),
          deviceIdsTo: z.array(deviceId).optional(),
          change4gOption: z.enum(change4gOptions),
          assignNonGeoMdn: z.boolean().optional(),
          npaNxx: z.string().optional(),
          servicePlan: z.string().optional(),
          zipCode: z.string().optional(),
          smsrOid: z.string().optional(),
        })
        // "Required for all change4GOptions except ChangeMSISDN"; an IMEI swap names both by IMEI.
        .refine((body) => body.change4gOption === 'ChangeMSISDN' || (body.deviceIdsTo?.length ?? 0) > 0, {
          message: 'deviceIdsTo is required but for ChangeMSISDN',
        })
        .refine(
          (body) =>
            body.change4gOption !== 'ChangeIMEI' ||
            (kindsOf(body.deviceIds).has('imei') && kindsOf(body.deviceIdsTo).has('imei')),
          { message: 'ChangeIMEI names the old and the new device by IMEI' },
        )
        .refine((body) => body.change4gOption !== 'ChangeICCID' || kindsOf(body.deviceIdsTo).has('iccid'), {
          message: 'ChangeICCID names the new SIM by ICCID',
        }),
      responses: { 200: requestId },
    },
    {
      name: 'list_devices',
      method: 'POST',
      path: '/api/m2m/v1/devices/actions/list',
      source: 'VZ-SDK account-device-list-request.md / -result.md (202 while hasMoreData)',
      client: true,
      headers: m2mJsonHeaders,
      request: z.strictObject({
        accountName: z.string().optional(),
        deviceId: deviceId.optional(),
        filter: z.object({}).loose().optional(),
        currentState: z.string().optional(),
        customFields: customFields.optional(),
        earliest: z.string().optional(),
        latest: z.string().optional(),
        groupName: z.string().optional(),
        servicePlan: z.string().optional(),
        maxNumberOfDevices: z.number().int().nonnegative().optional(),
        largestDeviceIdSeen: z.number().int().nonnegative().optional(),
      }),
      responses: { 200: deviceList, 202: deviceList },
    },
    {
      name: 'request_status',
      method: 'GET',
      path: '/api/m2m/v2/accounts/:accountName/requests/:requestId/status',
      source: 'Get the Status of an Asynchronous Request (v2)',
      client: true,
      headers: m2mHeaders,
      responses: {
        200: z.object({
          requestId: z.string(),
          status: z.enum(['Success', 'Failed', 'Pending']),
          subRequests: z
            .array(
              z.object({ ids: z.array(deviceId).min(1), status: z.enum(['Success', 'Failed', 'Pending']) }),
            )
            .optional(),
        }),
      },
    },
    {
      name: 'request_status_v1',
      method: 'GET',
      path: '/api/m2m/v1/accounts/:accountName/requests/:requestId/status',
      source: 'Get Request Status (v1: single-device requests; VZ-SDK asynchronous-request-result.md)',
      client: false,
      headers: m2mHeaders,
      // Strict: the v1 answer names the request only, never its devices.
      responses: {
        200: z.strictObject({ requestId: z.string(), status: z.enum(['Pending', 'Success', 'Failure']) }),
      },
    },
    {
      name: 'register_callback',
      method: 'POST',
      path: '/api/m2m/v1/callbacks/:accountName',
      source: 'Register Callback Listener; VZ-SDK register-callback-request.md',
      client: true,
      headers: m2mJsonHeaders,
      request: z.strictObject({
        name: z.string().min(1),
        url: z.url(),
        username: z.string().optional(),
        password: z.string().optional(),
      }),
      responses: { 200: z.object({ accountName: z.string(), serviceName: z.string() }) },
    },
  ],
};
