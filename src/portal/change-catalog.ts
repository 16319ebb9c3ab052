import { z } from 'zod';
import type { CarrierAdapter } from '../carriers/carrier.ts';
import type { CarrierRegistry } from '../carriers/registry.ts';
import { type CarrierName, type ChangeType, changeTypes } from '../core/change-types.ts';
import { yesNo } from '../core/field-types.ts';
import type { CarrierLimits } from '../core/flow.ts';
import { label } from './components/format.ts';

/** A field the operator may set once for every row (API §3: a field given in `options`). */
export interface FieldInput {
  name: string;
  label: string;
  required: boolean;
  kind: 'select' | 'checkbox' | 'date' | 'text';
  /** The choices of a select. */
  options: string[];
}

const identifierFields = new Set(['iccid', 'imei', 'msisdn', 'eid']);

/**
 * What the portal offers is read from the carrier adapters, never listed here: a carrier or change type
 * added to the registry appears in the portal as it is. A change type's fields are its flow's request
 * fields; `targetStatus` offers the carrier's reachable statuses.
 */
export class ChangeCatalog {
  readonly #registry: CarrierRegistry;

  constructor(registry: CarrierRegistry) {
    this.#registry = registry;
  }

  #adapter(carrier: CarrierName): CarrierAdapter | undefined {
    return this.#registry.adapter(carrier);
  }

  title(carrier: CarrierName): string {
    return this.#adapter(carrier)?.title ?? carrier;
  }

  /** The carrier's documented limits, which an account's `settings.limits` may override. */
  defaultLimits(carrier: CarrierName): Partial<CarrierLimits> {
    return this.#adapter(carrier)?.defaultLimits ?? {};
  }

  /** The carriers of this build, for the new account form. */
  carriers(): Array<{ carrier: CarrierName; title: string }> {
    return this.#registry.adapters().map((adapter) => ({ carrier: adapter.carrier, title: adapter.title }));
  }

  /** The fields of the carrier's credentials, each with whether the form may leave it empty. */
  credentialFields(carrier: CarrierName): Array<{ name: string; required: boolean }> {
    const schema = this.#adapter(carrier)?.credentialsSchema;
    if (!(schema instanceof z.ZodObject)) return [];
    return Object.entries(schema.shape as Record<string, z.ZodType>).map(([name, field]) => ({
      name,
      required: !field.safeParse(undefined).success,
    }));
  }

  /** The account variants a carrier's settings offer (the Jasper family's `variant`), else none. */
  variants(carrier: CarrierName): string[] {
    const schema = this.#adapter(carrier)?.settingsSchema;
    if (!(schema instanceof z.ZodObject)) return [];
    const variant = (schema.shape as Record<string, z.ZodType>).variant;
    const inner = variant instanceof z.ZodDefault ? (variant.unwrap() as z.ZodType) : variant;
    return inner instanceof z.ZodEnum ? inner.options.map(String) : [];
  }

  keyField(carrier: CarrierName): 'iccid' | 'msisdn' | 'eid' {
    return this.#adapter(carrier)?.keyField ?? 'iccid';
  }

  changeTypes(carrier: CarrierName): ChangeType[] {
    return changeTypes.filter((changeType) => this.#registry.flowFor(carrier, changeType));
  }

  /** Every change type some carrier of this build supports, for filters. */
  allChangeTypes(): ChangeType[] {
    return changeTypes.filter((changeType) =>
      this.#registry.adapters().some((adapter) => this.#registry.flowFor(adapter.carrier, changeType)),
    );
  }

  fields(carrier: CarrierName, changeType: ChangeType): FieldInput[] {
    const adapter = this.#adapter(carrier);
    const flow = this.#registry.flowFor(carrier, changeType);
    if (!adapter || !flow || !(flow.requestSchema instanceof z.ZodObject)) return [];
    const shape = flow.requestSchema.shape as Record<string, z.ZodType>;
    return Object.entries(shape)
      .filter(([name]) => !identifierFields.has(name))
      .map(([name, schema]) => fieldInput(name, schema, adapter));
  }
}

function fieldInput(name: string, schema: z.ZodType, adapter: CarrierAdapter): FieldInput {
  const inner = schema instanceof z.ZodOptional ? (schema.unwrap() as z.ZodType) : schema;
  const base = { name, label: label(name), required: !schema.safeParse(undefined).success, options: [] };
  if (name === 'targetStatus') return { ...base, kind: 'select', options: [...adapter.targetStatuses] };
  if (inner instanceof z.ZodEnum) return { ...base, kind: 'select', options: inner.options.map(String) };
  // A yes/no field (an option such as readMsisdn) is a tick box, as a JSON boolean would be.
  if (inner instanceof z.ZodBoolean || inner === yesNo) return { ...base, kind: 'checkbox' };
  if (name.endsWith('Date')) return { ...base, kind: 'date' };
  return { ...base, kind: 'text' };
}
