import { z } from 'zod';
import type { Faults } from '../../simulator-kit/faults.ts';
import { telegenceEsimOnlyTacs } from './catalog.ts';

/** Telegence's own faults and timings, beside the kit's; `PUT /_sim/faults` takes them too. */
export interface TelegenceFaults {
  /** Time of each activation step: pending → reserved, then reserved → active. */
  activationStepMs: number;
  /** Time from a static IP provisioning request to its per-subscriber results. */
  ipProvisionMs: number;
  /** Number of addresses in the static IP pool (10.64.0.1 upward). */
  ipPoolSize: number;
  /** IMEI type allocation codes (8 digits) of eSIM-only devices. */
  esimOnlyTacs: string[];
  /** ICCID → description: activations of these SIMs are rejected with code `REJECTED`. */
  rejectIccids: Record<string, string>;
}

/** No limit is published; these keep a client honest about throttling. */
export const telegenceDefaultFaults: Partial<Faults> = { rateLimitPerSecond: 20, maxConcurrent: 10 };

export const telegenceDefaultCarrierFaults: TelegenceFaults = {
  activationStepMs: 1_000,
  ipProvisionMs: 1_000,
  ipPoolSize: 1_000,
  esimOnlyTacs: telegenceEsimOnlyTacs,
  rejectIccids: {},
};

/** 250 hosts in each of 256 third octets. */
const maxIpPoolSize = 64_000;

const delayMs = z.number().int().min(0).max(600_000);
/** `PUT /_sim/faults`: Telegence's fields, each optional. */
export const telegenceFaultsPatchSchema = z.strictObject({
  activationStepMs: delayMs.optional(),
  ipProvisionMs: delayMs.optional(),
  ipPoolSize: z.number().int().min(0).max(maxIpPoolSize).optional(),
  esimOnlyTacs: z.array(z.string().regex(/^\d{8}$/, 'a TAC is 8 digits')).optional(),
  rejectIccids: z.record(z.string(), z.string()).optional(),
});
