import { z } from 'zod';
import { adminValidationError } from '../../../carriers/simulator-kit/admin-errors.ts';
import type { AdminRoute } from '../../../carriers/simulator-kit/definition.ts';
import {
  type RevioBook,
  type RevioSimService,
  type RevioSimServiceProduct,
  revioServiceProductStatuses,
  revioServiceStatuses,
  serviceKey,
  storedService,
} from './book.ts';
import { idText, revioDate, revioId, revioReference } from './wire.ts';

const optionalText = z.string().nullish();

const productSeedSchema = z.object({
  id: revioId.optional(),
  productId: revioId,
  /** Default: the catalog rate. */
  rate: z.number().nonnegative().optional(),
  quantity: z.number().int().positive().default(1),
  status: z.enum(revioServiceProductStatuses).default('ACTIVE'),
  effectiveDate: revioDate.nullish(),
  generateProration: z.boolean().default(false),
});
type ProductSeed = z.infer<typeof productSeedSchema>;

/**
 * One element of `POST /_sim/devices`: a service, in the shape `GET /_sim/devices` lists. With an `id`
 * it replaces that service (keeping its products unless it gives some); without one it is a new service.
 * Closed customers are fine here: a seed may describe history.
 */
export const createServiceSeedSchema = (book: RevioBook) =>
  z
    .object({
      id: revioId.optional(),
      customerId: revioId,
      providerId: revioId,
      serviceTypeId: revioId.nullish(),
      packageId: revioReference.nullish(),
      usagePlanGroupId: revioReference.nullish(),
      number: optionalText,
      number2: optionalText,
      description: optionalText,
      status: z.enum(revioServiceStatuses).default('ACTIVE'),
      effectiveDate: revioDate.nullish(),
      activatedDate: revioDate.nullish(),
      disconnectedDate: revioDate.nullish(),
      products: z.array(productSeedSchema).optional(),
    })
    .superRefine((seed, context) => {
      const problems = [
        book.catalogProblem(seed),
        book.customer(seed.customerId) ? undefined : `Customer ${seed.customerId} does not exist`,
        ...(seed.products ?? []).map((product) =>
          catalogRate(book, product.productId) === undefined
            ? `Product ${product.productId} does not exist`
            : undefined,
        ),
      ];
      for (const message of problems) {
        if (message !== undefined) context.addIssue({ code: 'custom', message });
      }
    })
    // The kit finds the service to replace by `iccid`; '' is no service, so a seed without id is new.
    .transform((seed) => ({ ...seed, iccid: seed.id === undefined ? '' : serviceKey(seed.id) }));
export type RevioServiceSeed = z.infer<ReturnType<typeof createServiceSeedSchema>>;

export const seededService = (
  book: RevioBook,
  seed: RevioServiceSeed,
  existing: RevioSimService | undefined,
): RevioSimService => {
  const id = book.serviceId(seed.id);
  const now = new Date().toISOString();
  return storedService({
    id,
    customerId: seed.customerId,
    providerId: seed.providerId,
    serviceTypeId: seed.serviceTypeId ?? null,
    packageId: seed.packageId ?? null,
    usagePlanGroupId: seed.usagePlanGroupId ?? null,
    number: seed.number ?? null,
    number2: seed.number2 ?? null,
    description: seed.description ?? null,
    status: seed.status,
    effectiveDate: seed.effectiveDate ?? null,
    activatedDate: seed.activatedDate ?? existing?.activatedDate ?? now,
    disconnectedDate: seed.disconnectedDate ?? (seed.status === 'DISCONNECTED' ? now : null),
    createdDate: existing?.createdDate ?? now,
    products:
      seed.products?.map((product) => seededProduct(book, id, seed.customerId, product)) ??
      existing?.products ??
      [],
    fields: existing?.fields ?? book.blankFields(),
  });
};

const seededProduct = (
  book: RevioBook,
  serviceId: number,
  customerId: number,
  seed: ProductSeed,
): RevioSimServiceProduct => ({
  id: book.serviceProductId(seed.id),
  serviceId,
  productId: seed.productId,
  customerId,
  rate: seed.rate ?? catalogRate(book, seed.productId) ?? 0,
  quantity: seed.quantity,
  status: seed.status,
  effectiveDate: seed.effectiveDate ?? null,
  generateProration: seed.generateProration,
});

const catalogRate = (book: RevioBook, productId: number): number | undefined =>
  book.catalog.products.find((product) => product.product_id === productId)?.rate;

const customerSeedSchema = z.object({
  customer_id: revioId,
  name: z.string().min(1),
  status: z.enum(['ACTIVE', 'CLOSED']).default('ACTIVE'),
});
const serviceProductsQuerySchema = z.object({ serviceId: idText.optional() });

/** `GET|POST /_sim/customers` (upsert by `customer_id`) and `GET /_sim/service-products[?serviceId=]`. */
export const revioAdminRoutes = (book: RevioBook): AdminRoute[] => [
  { method: 'GET', url: '/customers', handle: () => ({ status: 200, body: book.customers() }) },
  {
    method: 'POST',
    url: '/customers',
    handle: (request) => {
      const customers = z.array(customerSeedSchema).safeParse(request.body);
      if (!customers.success) return adminValidationError(customers.error);
      const created = customers.data.filter((customer) => book.putCustomer(customer)).length;
      return { status: 200, body: { created, updated: customers.data.length - created } };
    },
  },
  {
    method: 'GET',
    url: '/service-products',
    handle: (request) => {
      const query = serviceProductsQuerySchema.safeParse(Object.fromEntries(request.query));
      if (!query.success) return adminValidationError(query.error);
      return { status: 200, body: book.serviceProducts(query.data.serviceId) };
    },
  },
];
