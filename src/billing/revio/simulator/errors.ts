import type { z } from 'zod';
import type { SimFailure, SimResponse } from '../../../carriers/simulator-kit/definition.ts';

/** The short codes this simulator puts in `error`; Rev.io publishes none, so they are stable here. */
export const revioErrorCodes = {
  unauthorized: 'Unauthorized',
  badRequest: 'BadRequest',
  notFound: 'NotFound',
  tooManyRequests: 'TooManyRequests',
  serviceUnavailable: 'ServiceUnavailable',
  internalError: 'InternalServerError',
} as const;
type RevioErrorCode = (typeof revioErrorCodes)[keyof typeof revioErrorCodes];

/** Rev.io answers every error as an array of create-response objects (carrier-apis §6). */
export const revioErrorBody = (error: RevioErrorCode, message: string) => [
  { id: null, ok: false, error, message },
];

export const revioError = (status: number, error: RevioErrorCode, message: string): SimResponse => ({
  status,
  body: revioErrorBody(error, message),
});

export const badRequest = (message: string) => revioError(400, revioErrorCodes.badRequest, message);
export const notFound = (message: string) => revioError(404, revioErrorCodes.notFound, message);

/** Thrown from a body parser: the kit answers a thrown error's 4xx `statusCode` as a bad request. */
export const badRequestError = (message: string) => Object.assign(new Error(message), { statusCode: 400 });

/** The first problem of a refused body or query, named by its field. */
export const schemaRefusal = (error: z.ZodError): SimResponse => {
  const issue = error.issues[0];
  const where = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  return badRequest(`${where}${issue.message}`);
};

/** Rev.io sends no Retry-After: the wait is only in this sentence, which clients have to read. */
export const throttleMessage = (waitSeconds: number) =>
  `Too many requests. Please wait ${waitSeconds} seconds and try again.`;

/** What the kit's own refusals look like; a throttled client is told the kit's wait in the message. */
export const revioFailureEnvelope = (failure: SimFailure): unknown => {
  switch (failure.kind) {
    case 'rate_limited':
    case 'too_many_concurrent':
      return revioErrorBody(revioErrorCodes.tooManyRequests, throttleMessage(failure.retryAfterSeconds));
    case 'outage':
      return revioErrorBody(revioErrorCodes.serviceUnavailable, failure.message);
    case 'not_found':
      return revioErrorBody(revioErrorCodes.notFound, failure.message);
    case 'bad_request':
      return revioErrorBody(revioErrorCodes.badRequest, failure.message);
    case 'injected_error':
    case 'internal':
      return revioErrorBody(revioErrorCodes.internalError, failure.message);
  }
};
