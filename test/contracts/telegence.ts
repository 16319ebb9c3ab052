import { z } from 'zod';
import type { Contract } from './contract.ts';

/**
 * AT&T Telegence (APEX mobility). AT&T publishes no specification: this is the contract as production
 * integrations use it (AMOP's `TelegenceAPIClient.cs`, its activation and IP-provisioning code, and the
 * field scripts on the line-config API; carrier-apis §3), with the paths our settings default to.
 * Requests are strict.
 */
const auth = z.object({ 'app-id': z.string().min(1), 'app-secret': z.string().min(1) });
const json = auth.extend({ 'content-type': z.string().startsWith('application/json') });
const characteristic = z.strictObject({ name: z.string().min(1), value: z.string() });
/** AT&T writes days as `yyyy-mm-ddZ`; it takes them either way. */
const attDay = z.string().regex(/^\d{4}-\d\d-\d\dZ?$/);
const has = (names: string[]) => (list: Array<{ name: string }>) =>
  names.every((name) => list.some((entry) => entry.name === name));

const activationElement = z.strictObject({
  billingAccount: z.strictObject({ id: z.string().regex(/^\d{9,13}$/) }),
  relatedParty: z
    .array(
      z.strictObject({
        role: z.literal('subscriber'),
        firstName: z.string().min(1),
        lastName: z.string().min(1),
        address: z.record(z.string(), z.string()).optional(),
      }),
    )
    .min(1),
  service: z.strictObject({
    name: z.string(),
    category: z.strictObject({ id: z.string(), name: z.string() }),
    serviceSpecification: z.strictObject({ id: z.string().min(1), href: z.string().min(1) }),
    serviceQualification: z.strictObject({ id: z.string() }).optional(),
    serviceCharacteristic: z.array(characteristic).refine(has(['sim', 'IMEI', 'singleUserCode']), {
      message: 'sim, IMEI and singleUserCode are required',
    }),
  }),
});
const activationAnswer = z
  .array(
    z
      .object({
        id: z.string().min(1),
        interactionStatus: z.string().nullish(),
        service: z
          .object({
            status: z.string(),
            subscriberNumber: z.string().nullish(),
            serviceCharacteristic: z.array(z.object({ name: z.string(), value: z.string() })).nullish(),
          })
          .loose(),
      })
      .loose(),
  )
  .min(1);
const lineDetail = z
  .object({
    subscriberNumber: z.string(),
    category: z.object({ id: z.string(), name: z.string() }),
    serviceSpecification: z.object({ id: z.string(), href: z.string() }),
    serviceCharacteristic: z.array(z.object({ name: z.string(), value: z.string() })),
  })
  .loose();

export const telegenceContract: Contract = {
  carrier: 'telegence',
  errors: z.union([
    z.object({ errorDescription: z.string() }).loose(),
    z.object({ responseMessage: z.string() }).loose(),
    z.object({ description: z.string() }).loose(),
    z.object({ message: z.string() }).loose(),
  ]),
  operations: [
    {
      name: 'activate',
      method: 'POST',
      path: '/sp/mobility/serviceactivation/api/v1/activations',
      source: 'AMOP ProcessTelegenceNewServiceActivationsAsync (an array of at most 200)',
      client: true,
      headers: json,
      request: z.array(activationElement).min(1).max(200),
      responses: { 200: activationAnswer, 201: activationAnswer },
    },
    {
      name: 'activation_status',
      method: 'GET',
      path: '/sp/mobility/serviceactivation/api/v1/activations/:id',
      source: 'AMOP ProcessNewServiceActivationStatus.cs',
      client: true,
      headers: auth,
      responses: { 200: activationAnswer },
    },
    {
      name: 'get_line',
      method: 'GET',
      path: '/sp/mobility/lineconfig/api/v1/service/:subscriberNumber',
      source: 'line-config GET: AMOP TelegenceServicegGetCharacteristicHelper.cs, field scripts',
      client: true,
      headers: auth,
      responses: { 200: lineDetail },
    },
    {
      name: 'update_line',
      method: 'PATCH',
      path: '/sp/mobility/lineconfig/api/v1/service/:subscriberNumber',
      source: 'line-config PATCH: field scripts (equipment and plan changes), AMOP UpdateSubscriberAsync',
      client: true,
      headers: json,
      request: z.strictObject({
        effectiveDate: attDay.optional(),
        serviceCharacteristic: z.array(characteristic).min(1),
      }),
      responses: { 200: lineDetail },
    },
    {
      name: 'billing_account',
      method: 'GET',
      path: '/billingaccounts/:ban',
      source: 'AMOP BAN detail (TelegenceBanDetailGetURL)',
      client: true,
      headers: auth,
      responses: { 200: z.object({ id: z.string(), status: z.string() }).loose() },
    },
    {
      name: 'list_lines',
      method: 'GET',
      path: '/sp/mobility/api/v1/account',
      source: 'AMOP line list: paging headers current-page, page-size (250), page-total',
      client: true,
      headers: auth.extend({
        'current-page': z.string().regex(/^\d+$/),
        'page-size': z.string().regex(/^\d+$/),
      }),
      responses: {
        200: z.array(
          z
            .object({ serviceCharacteristic: z.array(z.object({ name: z.string(), value: z.string() })) })
            .loose(),
        ),
      },
    },
    {
      name: 'reserve_ips',
      method: 'POST',
      path: '/sp/mobility/ipaddress/api/v1/reservations',
      source: 'AMOP ProcessTelegenceStatusIPProcessing.cs ({pdpName, ipQuantity})',
      client: true,
      headers: json,
      request: z.strictObject({ pdpName: z.string().min(1), ipQuantity: z.number().int().min(1).max(10) }),
      responses: {
        200: z.object({ ipAddressRecords: z.array(z.object({ ipAddress: z.string() }).loose()) }).loose(),
        201: z.object({ ipAddressRecords: z.array(z.object({ ipAddress: z.string() }).loose()) }).loose(),
      },
    },
    {
      name: 'provision_ips',
      method: 'POST',
      path: '/sp/mobility/ipaddress/api/v1/provisioning',
      source:
        'AMOP ProcessTelegenceStatusIPProcessing.cs (at most 10 subscribers, effectiveDate yyyy-MM-ddZ)',
      client: true,
      headers: json,
      request: z.strictObject({
        pdpName: z.string().min(1),
        billingAccountNumber: z.string().min(1),
        subscriber: z
          .array(
            z.strictObject({
              subscriberNumber: z.string().min(1),
              ipAddressRecord: z.strictObject({ ipAddress: z.string() }),
              lteIndicator: z.enum(['Y', 'N']),
              defaultAPNIndicator: z.enum(['Y', 'N']),
              accessPointName: z.string().min(1),
              effectiveDate: z.string().regex(/^\d{4}-\d\d-\d\dZ$/),
            }),
          )
          .min(1)
          .max(10),
      }),
      responses: {
        200: z.object({ message: z.string() }).loose(),
        202: z.object({ message: z.string() }).loose(),
      },
    },
    {
      name: 'ip_status',
      method: 'GET',
      path: '/sp/mobility/ipaddress/api/v1/provisioning/status',
      source: 'AMOP ProcessTelegenceCheckIPProvising.cs (header batch-id or subscriber-number)',
      client: true,
      headers: auth.and(
        z.union([
          z.object({ 'batch-id': z.string().min(1) }),
          z.object({ 'subscriber-number': z.string().min(1) }),
        ]),
      ),
      responses: { 200: z.array(z.object({ subscriberNumber: z.string() }).loose()) },
    },
  ],
};
