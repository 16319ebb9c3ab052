import { DeviceStore, type SimDevice } from '../../../carriers/simulator-kit/device-store.ts';
import type { RevioCatalog, RevioCustomer } from './catalog.ts';

export const revioServiceStatuses = ['ACTIVE', 'DISCONNECTED'] as const;
export type RevioServiceStatus = (typeof revioServiceStatuses)[number];
export const revioServiceProductStatuses = ['PENDING', 'ACTIVE', 'DENIED', 'DISCONNECTED'] as const;
export type RevioServiceProductStatus = (typeof revioServiceProductStatuses)[number];

/** A product attached to a service; `GET /_sim/service-products` shows it as is. */
export interface RevioSimServiceProduct {
  id: number;
  serviceId: number;
  productId: number;
  customerId: number;
  rate: number;
  quantity: number;
  status: RevioServiceProductStatus;
  effectiveDate: string | null;
  generateProration: boolean;
}

/** A custom field's value on one service (null: never set). */
export interface RevioSimServiceField {
  fieldId: number;
  label: string;
  value: string | null;
}

/** A billable line (carrier-apis §6); `GET /_sim/devices` shows it as is (dates in ISO-8601 UTC). */
export interface RevioSimService extends SimDevice {
  /** The kit's store key, `svc-<id>`: Rev keys services by id, and two services may share an ICCID. */
  iccid: string;
  /** The kit's name for `status`. */
  state: RevioServiceStatus;
  id: number;
  customerId: number;
  providerId: number;
  serviceTypeId: number | null;
  packageId: number | null;
  usagePlanGroupId: number | null;
  /** The phone number or device identifier. */
  number: string | null;
  /** The network id, i.e. the ICCID. */
  number2: string | null;
  description: string | null;
  status: RevioServiceStatus;
  effectiveDate: string | null;
  activatedDate: string | null;
  disconnectedDate: string | null;
  createdDate: string;
  products: RevioSimServiceProduct[];
  /** Every custom field the tenant defines, in the definitions' order. */
  fields: RevioSimServiceField[];
}

/** A service without the fields the book derives when it stores one. */
export type RevioServiceFields = Omit<RevioSimService, 'iccid' | 'state'>;

export const serviceKey = (serviceId: number) => `svc-${serviceId}`;

/** The record the kit's store holds: keyed by `svc-<id>`, with `state` = `status`. */
export const storedService = (service: RevioServiceFields): RevioSimService => ({
  ...service,
  iccid: serviceKey(service.id),
  state: service.status,
});

interface ServiceReferences {
  customerId: number;
  providerId: number;
  serviceTypeId?: number | null;
}

// Distinct ranges, so that a client mixing up a service id and a service product id is caught.
const firstServiceId = 20_001;
const firstServiceProductId = 40_001;

/**
 * The simulator's state: the services (in the kit's store, which the kit lists, seeds and clears), the
 * customers, the catalog and the id sequences.
 */
export class RevioBook {
  readonly store = new DeviceStore<RevioSimService>();
  readonly catalog: RevioCatalog;
  #customers = new Map<number, RevioCustomer>();
  #nextServiceId = firstServiceId;
  #nextServiceProductId = firstServiceProductId;

  constructor(catalog: RevioCatalog) {
    this.catalog = catalog;
    this.reset();
  }

  customer(customerId: number): RevioCustomer | undefined {
    return this.#customers.get(customerId);
  }

  customers(): RevioCustomer[] {
    return [...this.#customers.values()].sort((a, b) => a.customer_id - b.customer_id);
  }

  /** Returns whether the customer is new. */
  putCustomer(customer: RevioCustomer): boolean {
    const created = !this.#customers.has(customer.customer_id);
    this.#customers.set(customer.customer_id, customer);
    return created;
  }

  service(serviceId: number): RevioSimService | undefined {
    return this.store.get(serviceKey(serviceId));
  }

  /** Oldest first. */
  services(): RevioSimService[] {
    return this.store.list().sort((a, b) => a.id - b.id);
  }

  /** Returns whether the service is new. */
  saveService(service: RevioServiceFields): boolean {
    return this.store.put(storedService(service));
  }

  /** A scan: patches of service products are rare next to everything else a client sends. */
  serviceProduct(productId: number): RevioSimServiceProduct | undefined {
    for (const service of this.store.list()) {
      const product = service.products.find((each) => each.id === productId);
      if (product !== undefined) return product;
    }
    return undefined;
  }

  /** Every service product, or those of one service; oldest first. */
  serviceProducts(serviceId?: number): RevioSimServiceProduct[] {
    const services = serviceId === undefined ? this.services() : [this.service(serviceId)];
    return services.flatMap((service) => service?.products ?? []).sort((a, b) => a.id - b.id);
  }

  /** A new id, or the given one (a seed naming its own), after which new ids continue. */
  serviceId(given?: number): number {
    const id = given ?? this.#nextServiceId;
    this.#nextServiceId = Math.max(this.#nextServiceId, id + 1);
    return id;
  }

  serviceProductId(given?: number): number {
    const id = given ?? this.#nextServiceProductId;
    this.#nextServiceProductId = Math.max(this.#nextServiceProductId, id + 1);
    return id;
  }

  /** A new service's custom fields: every definition, unset. */
  blankFields(): RevioSimServiceField[] {
    return this.catalog.serviceFields.map((field) => ({
      fieldId: field.field_id,
      label: field.label,
      value: null,
    }));
  }

  /** Why a new service cannot be billed this way; undefined when it can. */
  serviceProblem(references: ServiceReferences): string | undefined {
    return this.catalogProblem(references) ?? this.customerProblem(references.customerId);
  }

  /** An unknown provider or service type; undefined when both exist. */
  catalogProblem({ providerId, serviceTypeId }: Omit<ServiceReferences, 'customerId'>): string | undefined {
    const { providers, serviceTypes } = this.catalog;
    if (!providers.some((provider) => provider.provider_id === providerId)) {
      return `Provider ${providerId} does not exist`;
    }
    if (serviceTypeId != null && !serviceTypes.some((type) => type.service_type_id === serviceTypeId)) {
      return `Service type ${serviceTypeId} does not exist`;
    }
    return undefined;
  }

  /** Only an open customer takes new services. */
  customerProblem(customerId: number): string | undefined {
    const customer = this.customer(customerId);
    if (customer === undefined) return `Customer ${customerId} does not exist`;
    return customer.status === 'CLOSED' ? `Customer ${customerId} is closed` : undefined;
  }

  /** The services themselves are cleared with the kit's store. */
  reset(): void {
    this.#customers = new Map(this.catalog.customers.map((customer) => [customer.customer_id, customer]));
    this.#nextServiceId = firstServiceId;
    this.#nextServiceProductId = firstServiceProductId;
  }
}
