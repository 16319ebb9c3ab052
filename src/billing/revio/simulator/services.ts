import { z } from 'zod';
import type { SimRequest, SimResponse } from '../../../carriers/simulator-kit/definition.ts';
import { type RevioBook, type RevioSimService, revioServiceStatuses } from './book.ts';
import { badRequest, notFound, schemaRefusal } from './errors.ts';
import { parseJsonPatch } from './json-patch.ts';
import {
  created,
  idText,
  pagedList,
  pagingSchema,
  revioDate,
  revioId,
  revioReference,
  serviceJson,
  updated,
} from './wire.ts';

// Unknown fields (address_id, …) are ignored, as Rev.io does.
const createSchema = z.object({
  customer_id: revioId,
  provider_id: revioId,
  service_type_id: revioId.nullish(),
  package_id: revioReference.nullish(),
  number: z.string().nullish(),
  number2: z.string().nullish(),
  usage_plan_group_id: revioReference.nullish(),
  effective_date: revioDate.nullish(),
  activated_date: revioDate.nullish(),
  description: z.string().nullish(),
});

const searchSchema = pagingSchema.extend({
  'search.customer_id': idText.optional(),
  'search.number': z.string().optional(),
  'search.number2': z.string().optional(),
  'search.status': z.enum(revioServiceStatuses).optional(),
});

const patchPaths = {
  '/status': z.enum(revioServiceStatuses),
  '/description': z.string().nullable(),
  '/customer_id': revioId,
  '/disconnected_date': revioDate.nullable(),
  '/usage_plan_group_id': revioReference.nullable(),
};

/** The service a path `:id` names, or the 404 to answer. */
export const serviceAt = (book: RevioBook, id: string | undefined): RevioSimService | SimResponse => {
  const serviceId = idText.safeParse(id);
  const service = serviceId.success ? book.service(serviceId.data) : undefined;
  return service ?? notFound(`Service ${id} does not exist`);
};

const isService = (found: RevioSimService | SimResponse): found is RevioSimService => 'id' in found;

export const getService = (book: RevioBook, request: SimRequest): SimResponse => {
  const found = serviceAt(book, request.params.id);
  return isService(found) ? { status: 200, body: serviceJson(found) } : found;
};

/** Filters are AND-ed; Rev.io does not deduplicate, so a number may have several services. */
export const listServices = (book: RevioBook, request: SimRequest): SimResponse =>
  pagedList(request, searchSchema, (search) =>
    book
      .services()
      .filter(
        (service) =>
          (search['search.customer_id'] === undefined ||
            service.customerId === search['search.customer_id']) &&
          (search['search.number'] === undefined || service.number === search['search.number']) &&
          (search['search.number2'] === undefined || service.number2 === search['search.number2']) &&
          (search['search.status'] === undefined || service.status === search['search.status']),
      )
      .map(serviceJson),
  );

/** No duplicate check: the real API creates a second service for the same line (original-system §5.7.2). */
export const createService = (book: RevioBook, request: SimRequest): SimResponse => {
  const parsed = createSchema.safeParse(request.body);
  if (!parsed.success) return schemaRefusal(parsed.error);
  const body = parsed.data;
  const problem = book.serviceProblem({
    customerId: body.customer_id,
    providerId: body.provider_id,
    serviceTypeId: body.service_type_id,
  });
  if (problem !== undefined) return badRequest(problem);
  const now = new Date().toISOString();
  const id = book.serviceId();
  book.saveService({
    id,
    status: 'ACTIVE',
    customerId: body.customer_id,
    providerId: body.provider_id,
    serviceTypeId: body.service_type_id ?? null,
    packageId: body.package_id ?? null,
    usagePlanGroupId: body.usage_plan_group_id ?? null,
    number: body.number ?? null,
    number2: body.number2 ?? null,
    description: body.description ?? null,
    effectiveDate: body.effective_date ?? null,
    activatedDate: body.activated_date ?? now,
    disconnectedDate: null,
    createdDate: now,
    products: [],
    fields: book.blankFields(),
  });
  return created(id);
};

/** `/fields/{index}/value` for each custom field the service has: a JSON Pointer into its `fields`. */
const fieldValuePaths = (service: RevioSimService) =>
  Object.fromEntries(
    service.fields.map((_, index) => [`/fields/${index}/value`, z.string().max(255).nullable()]),
  ) as Record<`/fields/${number}/value`, z.ZodNullable<z.ZodString>>;

/**
 * JSON-Patch `replace` of status, description, customer, disconnected date, usage plan group or a
 * custom field's value. A disconnect without a date is dated now; a reconnect clears the date unless the
 * patch sets one.
 */
export const updateService = (book: RevioBook, request: SimRequest): SimResponse => {
  const found = serviceAt(book, request.params.id);
  if (!isService(found)) return found;
  const patch = parseJsonPatch(request.body, { ...patchPaths, ...fieldValuePaths(found) });
  if ('problem' in patch) return badRequest(patch.problem);
  const changes = patch.changes;
  const customerId = changes['/customer_id'] ?? found.customerId;
  const problem = customerId === found.customerId ? undefined : book.customerProblem(customerId);
  if (problem !== undefined) return badRequest(problem);
  const status = changes['/status'] ?? found.status;
  book.saveService({
    ...found,
    status,
    customerId,
    description: changes['/description'] === undefined ? found.description : changes['/description'],
    usagePlanGroupId:
      changes['/usage_plan_group_id'] === undefined
        ? found.usagePlanGroupId
        : changes['/usage_plan_group_id'],
    disconnectedDate: disconnectedDate(found, status, changes['/disconnected_date']),
    fields: found.fields.map((field, index) => {
      const value = (changes as Record<string, string | null | undefined>)[`/fields/${index}/value`];
      return value === undefined ? field : { ...field, value };
    }),
  });
  return updated(found.id);
};

const disconnectedDate = (
  service: RevioSimService,
  status: RevioSimService['status'],
  given: string | null | undefined,
): string | null => {
  if (given !== undefined) return given;
  if (status === 'ACTIVE') return service.status === 'ACTIVE' ? service.disconnectedDate : null;
  return service.disconnectedDate ?? new Date().toISOString();
};
