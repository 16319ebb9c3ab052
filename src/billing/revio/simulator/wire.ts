import { z } from 'zod';
import type { SimRequest, SimResponse } from '../../../carriers/simulator-kit/definition.ts';
import type { RevioSimService, RevioSimServiceProduct } from './book.ts';
import { schemaRefusal } from './errors.ts';

/** Rev.io ids are positive integers. */
export const revioId = z.number().int().positive();
/** Optional references where AMOP sends 0 for "none". */
export const revioReference = z.number().int().nonnegative();
/** AMOP sends `yyyy-MM-ddZ`; any date or date-time is taken and kept as ISO-8601 UTC. */
export const revioDate = z
  .string()
  .refine((value) => !Number.isNaN(Date.parse(value)), 'expected a date such as 2024-05-01Z')
  .transform((value) => new Date(value).toISOString());

/** An id in a path or query string. */
export const idText = z
  .string()
  .regex(/^[1-9]\d{0,14}$/, 'expected a positive integer')
  .transform(Number);

const maxPageSize = 1000;
export const pagingSchema = z.object({
  page: idText.default(1),
  page_size: idText.pipe(z.number().max(maxPageSize, `at most ${maxPageSize}`)).default(100),
});
export type Paging = z.infer<typeof pagingSchema>;

/** The page asked for of records in a stable order; `record_count` counts every match. */
export const pageOf = <T>(records: T[], { page, page_size }: Paging) => ({
  records: records.slice((page - 1) * page_size, page * page_size),
  record_count: records.length,
});

/** A list endpoint: `search` reads the query (paging and the resource's filters), `find` the matches. */
export const pagedList = <S extends Paging>(
  request: SimRequest,
  search: z.ZodType<S>,
  find: (search: S) => unknown[],
): SimResponse => {
  const query = search.safeParse(Object.fromEntries(request.query));
  if (!query.success) return schemaRefusal(query.error);
  return { status: 200, body: pageOf(find(query.data), query.data) };
};

export const serviceJson = (service: RevioSimService) => ({
  service_id: service.id,
  customer_id: service.customerId,
  provider_id: service.providerId,
  service_type_id: service.serviceTypeId,
  number: service.number,
  number2: service.number2,
  package_id: service.packageId,
  usage_plan_group_id: service.usagePlanGroupId,
  description: service.description,
  status: service.status,
  effective_date: service.effectiveDate,
  activated_date: service.activatedDate,
  disconnected_date: service.disconnectedDate,
  created_date: service.createdDate,
  fields: service.fields.map((field) => ({
    field_id: field.fieldId,
    label: field.label,
    value: field.value,
  })),
});

export const serviceProductJson = (product: RevioSimServiceProduct) => ({
  service_product_id: product.id,
  service_id: product.serviceId,
  product_id: product.productId,
  customer_id: product.customerId,
  rate: product.rate,
  quantity: product.quantity,
  status: product.status,
});

/** `201 {id, ok: true}`, Rev's create response. */
export const created = (id: number) => ({ status: 201, body: { id, ok: true } });
export const updated = (id: number) => ({ status: 200, body: { id, ok: true } });
