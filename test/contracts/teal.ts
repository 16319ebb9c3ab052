import { z } from 'zod';
import type { Contract } from './contract.ts';

/**
 * Teal's integration API as AMOP's `TealAPIService.cs` / `TealHelper.cs` call it (carrier-apis §5; Teal's
 * Swagger and Confluence were not available), on the default paths, headers and casing of our
 * settings. Requests are strict.
 */
const auth = z.object({ apikey: z.string().min(1), apisecret: z.string().min(1) });
const json = auth.extend({ 'content-type': z.string().startsWith('application/json') });
const requestId = z.string().min(1);
const eid = z.string().regex(/^\d{32}$/);
/** `yyyy-MM-dd HH:mm:ss`, the only time format the consumption query takes (carrier-apis §5). */
const periodTime = z.string().regex(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
const pageLimit = z
  .string()
  .regex(/^\d+$/)
  .refine((value) => Number(value) <= 100, 'at most 100');
const accepted = z.object({
  success: z.literal(true),
  link: z.object({ operationResultLink: z.object({ href: z.string().min(1) }) }),
});
const write = (name: 'enable' | 'disable' | 'assign_plan', entries: z.ZodType) => ({
  name,
  method: 'POST' as const,
  path: `/api/v1/esims/${name === 'assign_plan' ? 'assign-plan' : name}`,
  source: 'AMOP TealHelper.cs: POST {"entries": [...]} → {success, link: {operationResultLink: {href}}}',
  client: true,
  headers: json,
  query: z.strictObject({ requestId }),
  request: z.strictObject({ entries: z.array(entries).min(1).max(100) }),
  responses: { 200: accepted, 202: accepted },
});

export const tealContract: Contract = {
  carrier: 'teal',
  errors: z.object({ success: z.literal(false), errorMessage: z.string() }).loose(),
  operations: [
    {
      name: 'list_esims',
      method: 'GET',
      path: '/api/v1/esims',
      source: 'AMOP TealAPIService.cs: GET api/v1/esims?requestId=&offset=&limit= (limit at most 100)',
      client: true,
      headers: auth,
      query: z.strictObject({
        requestId,
        offset: z.string().regex(/^\d+$/),
        limit: pageLimit,
      }),
      responses: {
        200: z
          .object({
            entries: z.array(z.object({ eid, iccid: z.string(), state: z.string() }).loose()),
            total: z.number().int(),
          })
          .loose(),
      },
    },
    {
      name: 'data_consumption',
      method: 'GET',
      path: '/api/v1/data-consumption/data',
      source:
        'carrier-apis §5 (AMOP TealAPIService.cs): GET api/v1/data-consumption/data?dataType=&periodStart=&periodEnd=; the answer is unconfirmed (docs/carriers/teal.md)',
      client: true,
      headers: auth,
      query: z.strictObject({
        requestId,
        dataType: z.enum(['DAILY', 'MONTHLY', 'DAILY_PROVIDER_NETWORK', 'MONTHLY_PROVIDER_NETWORK']),
        periodStart: periodTime,
        periodEnd: periodTime,
        offset: z.string().regex(/^\d+$/),
        limit: pageLimit,
      }),
      responses: {
        200: z
          .object({
            entries: z.array(
              z.object({ eid, periodStart: periodTime, bytes: z.number().int().min(0) }).loose(),
            ),
            total: z.number().int(),
          })
          .loose(),
      },
    },
    write('enable', eid),
    write('disable', eid),
    write('assign_plan', z.strictObject({ eid, planUuid: z.string().min(1) })),
    {
      name: 'operation_result',
      method: 'GET',
      path: '/api/v1/operations/:operationId',
      source: 'AMOP: GET the operation link → {entries: [{success, errorMessage}]}',
      client: true,
      headers: auth,
      query: z.strictObject({ requestId }),
      responses: {
        200: z
          .object({
            entries: z.array(z.object({ success: z.boolean(), errorMessage: z.string().nullish() }).loose()),
          })
          .loose(),
      },
    },
  ],
};
