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

/** The gateway's rate-limit sentence (Azure API Management), which states the wait in its text too. */
export const throttleMessage = (waitSeconds: number) =>
  `Rate limit is exceeded. Try again in ${waitSeconds} seconds.`;

/**
 * What the kit's own refusals look like. A throttled client is refused by the gateway, in its
 * `{statusCode, message}` envelope, with `Retry-After` and the wait in the message.
 */
export const revioFailureEnvelope = (failure: SimFailure): unknown => {
  switch (failure.kind) {
    case 'rate_limited':
    case 'too_many_concurrent':
      return { statusCode: 429, message: throttleMessage(failure.retryAfterSeconds) };
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
