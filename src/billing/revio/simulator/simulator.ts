import type { CarrierRoute, SimRequest, SimResponse } from '../../../carriers/simulator-kit/definition.ts';
import type { Faults } from '../../../carriers/simulator-kit/faults.ts';
import { createSimulatorServer, type SimulatorServer } from '../../../carriers/simulator-kit/simulator.ts';
import { createServiceSeedSchema, type RevioServiceSeed, revioAdminRoutes, seededService } from './admin.ts';
import { revioAuthRefusal } from './auth.ts';
import { RevioBook, type RevioSimService } from './book.ts';
import {
  type RevioCustomer,
  type RevioProduct,
  type RevioProvider,
  type RevioServiceFieldDefinition,
  type RevioServiceType,
  revioCustomers,
  revioDefaultFaults,
  revioDefaultSubscriptionKeys,
  revioDefaultUsers,
  revioProducts,
  revioProviders,
  revioServiceFields,
  revioServiceTypes,
} from './catalog.ts';
import { getCustomer, listCustomers } from './customers.ts';
import { badRequestError, revioFailureEnvelope } from './errors.ts';
import { createServiceProduct, listServiceProducts, updateServiceProduct } from './service-products.ts';
import { createService, getService, listServices, updateService } from './services.ts';

export type { RevioSimService, RevioSimServiceProduct } from './book.ts';
export * from './catalog.ts';
export { revioErrorCodes, throttleMessage } from './errors.ts';

export interface RevioSimulatorOptions {
  /** `login@clientcode` → password. */
  users?: Record<string, string>;
  /** `Ocp-Apim-Subscription-Key` values the gateway accepts. */
  subscriptionKeys?: string[];
  /** Over `revioDefaultFaults`. */
  faults?: Partial<Faults>;
  /** What a reset restores; `POST /_sim/customers` adds or replaces customers meanwhile. */
  customers?: RevioCustomer[];
  serviceTypes?: RevioServiceType[];
  products?: RevioProduct[];
  providers?: RevioProvider[];
  /** The custom fields every service has. */
  serviceFields?: RevioServiceFieldDefinition[];
}

type Handler = (book: RevioBook, request: SimRequest) => SimResponse;

/**
 * Rev.io billing REST (carrier-apis §6): customers, services (billable lines, `number2` = ICCID) and
 * their products, behind an API gateway that wants a subscription key, with HTTP Basic auth,
 * JSON-Patch updates and Rev's array error envelope. Like the real API it never deduplicates
 * services: a client must look a line up before it creates one.
 */
export const createRevioSimulator = (
  options: RevioSimulatorOptions = {},
): SimulatorServer<RevioSimService> => {
  const users = options.users ?? revioDefaultUsers;
  const subscriptionKeys = new Set(options.subscriptionKeys ?? revioDefaultSubscriptionKeys);
  const book = new RevioBook({
    customers: options.customers ?? revioCustomers,
    serviceTypes: options.serviceTypes ?? revioServiceTypes,
    products: options.products ?? revioProducts,
    providers: options.providers ?? revioProviders,
    serviceFields: options.serviceFields ?? revioServiceFields,
  });
  const route = (
    method: CarrierRoute['method'],
    url: string,
    action: string,
    handle: Handler,
    iccids: CarrierRoute['iccids'] = () => [],
  ): CarrierRoute => ({
    method,
    url,
    action,
    iccids,
    handle: (request) => revioAuthRefusal(users, subscriptionKeys, request) ?? handle(book, request),
  });
  const iccidOfService = (serviceId: unknown) => {
    const number2 = book.service(Number(serviceId))?.number2;
    return number2 ? [number2] : [];
  };
  const iccidOfServiceProduct = (request: SimRequest) =>
    iccidOfService(book.serviceProduct(Number(request.params.id))?.serviceId);
  const catalogList = (records: unknown[]) => () => ({
    status: 200,
    body: { records, record_count: records.length },
  });

  const routes: CarrierRoute[] = [
    route('GET', '/v1/Customers', 'list_customers', listCustomers),
    route('GET', '/v1/Customers/:id', 'get_customer', getCustomer),
    route('GET', '/v1/Services', 'list_services', listServices, (request) =>
      optionalList(request.query.get('search.number2')),
    ),
    route('GET', '/v1/Services/:id', 'get_service', getService, (request) =>
      iccidOfService(request.params.id),
    ),
    route('POST', '/v1/Services', 'create_service', createService, (request) =>
      optionalList(bodyField(request.body, 'number2')),
    ),
    route('PATCH', '/v1/Services/:id', 'update_service', updateService, (request) =>
      iccidOfService(request.params.id),
    ),
    route('POST', '/v1/ServiceProduct', 'create_service_product', createServiceProduct, (request) =>
      iccidOfService(bodyField(request.body, 'service_id')),
    ),
    route('GET', '/v1/ServiceProduct', 'list_service_products', listServiceProducts, (request) =>
      iccidOfService(request.query.get('search.service_id')),
    ),
    route(
      'PATCH',
      '/v1/ServiceProduct/:id',
      'update_service_product',
      updateServiceProduct,
      iccidOfServiceProduct,
    ),
    route('GET', '/v1/Products', 'list_products', catalogList(book.catalog.products)),
    route('GET', '/v1/ServiceTypes', 'list_service_types', catalogList(book.catalog.serviceTypes)),
    route('GET', '/v1/Providers', 'list_providers', catalogList(book.catalog.providers)),
  ];

  return createSimulatorServer({
    store: book.store,
    routes,
    defaultFaults: { ...revioDefaultFaults, ...options.faults },
    seedSchema: createServiceSeedSchema(book),
    fromSeed: (seed: RevioServiceSeed, existing) => seededService(book, seed, existing),
    errorEnvelope: revioFailureEnvelope,
    adminRoutes: revioAdminRoutes(book),
    contentTypeParsers: { 'application/json-patch+json': parseJson },
    onReset: () => book.reset(),
  });
};

/** A malformed JSON-Patch body is the client's fault (400), not the simulator's. */
const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    throw badRequestError('The body is not valid JSON');
  }
};

/** A field of a body that may be anything: the call log reads refused requests too. */
const bodyField = (body: unknown, name: string): unknown =>
  typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined;

const optionalList = (value: unknown): string[] => (typeof value === 'string' && value !== '' ? [value] : []);
