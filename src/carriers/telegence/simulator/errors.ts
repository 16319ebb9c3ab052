import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import type { SimFailure, SimResponse } from '../../simulator-kit/definition.ts';

/** The line-config, activation and billing account APIs answer errors as `{errorDescription}`. */
export const telegenceError = (status: number, errorDescription: string): SimResponse => ({
  status,
  body: { errorDescription },
});

/** The static IP APIs answer errors as `{message}`. */
export const ipError = (status: number, message: string): SimResponse => ({ status, body: { message } });

/** The kit's own answers (faults, malformed JSON, unknown paths) in Telegence's envelope. */
export const telegenceFailureEnvelope = (failure: SimFailure) => ({ errorDescription: failure.message });

/** How the real service refuses a SIM change on an eSIM-only device (carrier-apis §3.3). */
export const esimRequired = (): SimResponse => ({
  status: 404,
  body: { id: randomUUID(), description: '/service/' },
});

/** The first problem of a refused body, e.g. `serviceCharacteristic.0.value: expected string`. */
export const firstIssue = (error: z.ZodError): string => {
  const issue = error.issues[0];
  return issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message;
};
