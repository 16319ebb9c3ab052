import { z } from 'zod';
import type { SimRequest, SimResponse } from '../../../carriers/simulator-kit/definition.ts';
import { type RevioBook, type RevioSimServiceProduct, revioServiceProductStatuses } from './book.ts';
import { badRequest, notFound, schemaRefusal } from './errors.ts';
import { parseJsonPatch } from './json-patch.ts';
import {
  created,
  idText,
  pagedList,
  pagingSchema,
  revioDate,
  revioId,
  serviceProductJson,
  updated,
} from './wire.ts';

const rateSchema = z.number().nonnegative();
const quantitySchema = z.number().int().positive();
const statusSchema = z.enum(revioServiceProductStatuses);

// Unknown fields (package_id, activated_date, …) are ignored, as Rev.io does.
const createSchema = z.object({
  service_id: revioId,
  product_id: revioId,
  customer_id: revioId,
  rate: rateSchema.nullish(),
  quantity: quantitySchema.default(1),
  status: statusSchema.default('ACTIVE'),
  effective_date: revioDate.nullish(),
  generate_proration: z.boolean().default(false),
});

const searchSchema = pagingSchema.extend({ 'search.service_id': idText.optional() });

const patchPaths = { '/status': statusSchema, '/rate': rateSchema, '/quantity': quantitySchema };

/** Attaches a catalog product to a service of the same customer, at the catalog rate unless given. */
export const createServiceProduct = (book: RevioBook, request: SimRequest): SimResponse => {
  const parsed = createSchema.safeParse(request.body);
  if (!parsed.success) return schemaRefusal(parsed.error);
  const body = parsed.data;
  const service = book.service(body.service_id);
  if (service === undefined) return badRequest(`Service ${body.service_id} does not exist`);
  const catalogProduct = book.catalog.products.find((product) => product.product_id === body.product_id);
  if (catalogProduct === undefined) return badRequest(`Product ${body.product_id} does not exist`);
  if (service.customerId !== body.customer_id) {
    return badRequest(`Service ${service.id} does not belong to customer ${body.customer_id}`);
  }
  const product: RevioSimServiceProduct = {
    id: book.serviceProductId(),
    serviceId: service.id,
    productId: body.product_id,
    customerId: body.customer_id,
    rate: body.rate ?? catalogProduct.rate,
    quantity: body.quantity,
    status: body.status,
    effectiveDate: body.effective_date ?? null,
    generateProration: body.generate_proration,
  };
  book.saveService({ ...service, products: [...service.products, product] });
  return created(product.id);
};

export const listServiceProducts = (book: RevioBook, request: SimRequest): SimResponse =>
  pagedList(request, searchSchema, (search) =>
    book.serviceProducts(search['search.service_id']).map(serviceProductJson),
  );

/** JSON-Patch `replace` of status, rate or quantity. */
export const updateServiceProduct = (book: RevioBook, request: SimRequest): SimResponse => {
  const id = idText.safeParse(request.params.id);
  const product = id.success ? book.serviceProduct(id.data) : undefined;
  const service = product && book.service(product.serviceId);
  if (product === undefined || service === undefined) {
    return notFound(`Service product ${request.params.id} does not exist`);
  }
  const patch = parseJsonPatch(request.body, patchPaths);
  if ('problem' in patch) return badRequest(patch.problem);
  const { changes } = patch;
  const next: RevioSimServiceProduct = {
    ...product,
    status: changes['/status'] ?? product.status,
    rate: changes['/rate'] ?? product.rate,
    quantity: changes['/quantity'] ?? product.quantity,
  };
  book.saveService({
    ...service,
    products: service.products.map((each) => (each.id === product.id ? next : each)),
  });
  return updated(product.id);
};
