import { z } from 'zod';

/** Teal's own faults, beside the kit's; `PUT /_sim/faults` takes them too. */
export interface TealFaults {
  /** Time from an accepted write to its operation being DONE (and its changes applied). */
  operationMs: number;
  /** EID → the `errorMessage` its entry fails with, whatever the operation. */
  failEids: Record<string, string>;
  /** Operations accepted while this is true never finish: they stay IN_PROGRESS (client timeouts). */
  lostOperations: boolean;
}

export const tealDefaultOperationFaults: TealFaults = {
  operationMs: 1000,
  failEids: {},
  lostOperations: false,
};

/** `PUT /_sim/faults`: Teal's fields, each optional. */
export const tealFaultsPatchSchema = z.strictObject({
  operationMs: z.number().int().min(0).max(600_000).optional(),
  failEids: z.record(z.string(), z.string().min(1)).optional(),
  lostOperations: z.boolean().optional(),
});
