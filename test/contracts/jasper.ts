import { z } from 'zod';
import type { Contract } from './contract.ts';

/**
 * Cisco IoT Control Center REST, as Cisco publishes it (developer.cisco.com/docs/control-center: Get
 * Device Details, Edit Device Details, Get Device Usage, Get Device Audit History, Search Devices, the troubleshooting
 * checklist) and as the
 * OpenAPI model of those pages has it (titobrasolin/jasper-client-python, `DeviceEditModel.yaml`,
 * `DeviceDetails.yaml`, `specs/paths/devices.yaml`). Requests are strict.
 */
const statuses = [
  'ACTIVATED',
  'ACTIVATION_READY',
  'DEACTIVATED',
  'INVENTORY',
  'RETIRED',
  'TEST_READY',
  'PURGED',
  'REPLACED',
] as const;
const basic = z.object({ authorization: z.string().regex(/^Basic \S+$/) });
/** `yyyy-MM-dd HH:mm:ss.SSS+0000`, not ISO. */
const jasperTime = z
  .string()
  .regex(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\+0000$/)
  .nullable();
/** `2016-04-18T17:31:34+00:00` in a query. */
const queryTime = z.string().regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/);

const custom = (prefix: string, count: number) =>
  Object.fromEntries(Array.from({ length: count }, (_, i) => [`${prefix}${i + 1}`, z.string().optional()]));

export const jasperContract: Contract = {
  carrier: 'jasper',
  errors: z.object({
    errorMessage: z.string(),
    errorCode: z
      .string()
      .regex(/^\d{8}$/)
      .optional(),
  }),
  operations: [
    {
      name: 'get_device',
      method: 'GET',
      path: '/rws/api/v1/devices/:iccid',
      source: 'Get Device Details',
      client: true,
      headers: basic,
      responses: {
        200: z
          .object({
            iccid: z.string(),
            imsi: z.string().nullable(),
            msisdn: z.string().nullable(),
            imei: z.string().nullable(),
            status: z.enum(statuses),
            ratePlan: z.string().nullable(),
            communicationPlan: z.string().nullable(),
            dateActivated: jasperTime,
            dateAdded: jasperTime,
            dateUpdated: jasperTime,
            accountId: z.string(),
          })
          .loose(),
      },
    },
    {
      name: 'put_device',
      method: 'PUT',
      path: '/rws/api/v1/devices/:iccid',
      source: 'Edit Device Details (DeviceEditModel; effectiveDate at most 180 days ahead)',
      client: true,
      headers: basic.extend({ 'content-type': z.string().startsWith('application/json') }),
      request: z
        .strictObject({
          effectiveDate: z.string().optional(),
          status: z.enum(statuses).optional(),
          ratePlan: z.string().optional(),
          communicationPlan: z.string().optional(),
          customer: z.string().optional(),
          deviceID: z.string().optional(),
          modemID: z.string().optional(),
          overageLimitOverride: z.enum(['DEFAULT', 'TEMPORARY_OVERRIDE', 'PERMANENT_OVERRIDE']).optional(),
          ipv4Address: z.string().optional(),
          ipv6Address: z.string().optional(),
          apn: z.string().optional(),
          pdpId: z.string().optional(),
          ...custom('accountCustom', 10),
          ...custom('operatorCustom', 5),
          ...custom('customerCustom', 5),
        })
        .refine(
          (edit) =>
            Object.entries(edit).some(([key, value]) => key !== 'effectiveDate' && value !== undefined),
          {
            message: 'at least one field to edit',
          },
        ),
      responses: { 200: z.object({ iccid: z.string() }), 202: z.object({ iccid: z.string() }) },
    },
    {
      name: 'get_usage',
      method: 'GET',
      path: '/rws/api/v1/devices/:iccid/ctdUsages',
      source: 'Get Device Usage (ctdDataUsage in bytes, with the line’s identifiers and plans)',
      client: true,
      headers: basic,
      responses: {
        200: z
          .object({
            iccid: z.string(),
            ctdDataUsage: z.number().nonnegative(),
            ctdSMSUsage: z.number(),
            ctdVoiceUsage: z.number(),
            ratePlan: z.string().nullable(),
            status: z.enum(statuses),
          })
          .loose(),
      },
    },
    {
      name: 'get_audit_trail',
      method: 'GET',
      path: '/rws/api/v1/devices/:iccid/auditTrails',
      source: 'Get Device Audit History (daysOfHistory ≤ 365, default 30; pageSize ≤ 50; newest first)',
      client: true,
      headers: basic,
      query: z.strictObject({
        daysOfHistory: z.coerce.number().int().min(1).max(365).optional(),
        pageSize: z.coerce.number().int().min(1).max(50).optional(),
        pageNumber: z.coerce.number().int().min(1).optional(),
      }),
      responses: {
        200: z
          .object({
            iccid: z.string(),
            pageNumber: z.number().int(),
            lastPage: z.boolean(),
            deviceAuditTrails: z.array(
              z
                .object({
                  field: z.string(),
                  priorValue: z.string().nullable(),
                  value: z.string().nullable(),
                  effectiveDate: z.string(),
                  status: z.string(),
                  userName: z.string(),
                })
                .loose(),
            ),
          })
          .loose(),
      },
    },
    {
      name: 'search_devices',
      method: 'GET',
      path: '/rws/api/v1/devices',
      source: 'Search Devices (modifiedSince required, windows of at most a year, pageSize ≤ 50)',
      client: true,
      headers: basic,
      query: z
        .strictObject({
          modifiedSince: queryTime,
          modifiedTill: queryTime.optional(),
          status: z.enum(statuses).optional(),
          accountId: z.string().optional(),
          pageSize: z.coerce.number().int().min(1).max(50).optional(),
          pageNumber: z.coerce.number().int().min(1).optional(),
        })
        .refine(
          (query) =>
            (query.modifiedTill ? Date.parse(query.modifiedTill) : Date.now()) -
              Date.parse(query.modifiedSince) <=
            365 * 86_400_000,
          { message: 'modifiedSince to modifiedTill is at most a year' },
        ),
      responses: {
        200: z.object({
          pageNumber: z.number().int(),
          lastPage: z.boolean(),
          devices: z.array(z.object({ iccid: z.string(), status: z.enum(statuses) }).loose()),
        }),
      },
    },
  ],
};
