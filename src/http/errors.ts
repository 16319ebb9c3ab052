import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { AppError } from '../core/errors.ts';

export const errorBody = (code: string, message: string, details: unknown[] = []) => ({
  error: { code, message, details },
});

/**
 * Every error leaves in the API's shape. Bad input is a 4xx with details; only our own faults are a
 * 500, and those never show internals.
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    // The rest of an oversized upload is never read: the connection cannot carry another request.
    if (error.statusCode === 413) reply.header('connection', 'close');
    if (error instanceof AppError) {
      return reply.status(error.statusCode).send(errorBody(error.code, error.message, error.details));
    }
    if (hasZodFastifySchemaValidationErrors(error)) {
      const details = error.validation.map((issue) => ({
        field: issue.instancePath.split('/').filter(Boolean).join('.') || error.validationContext,
        code: 'INVALID_FIELD',
        message: issue.message ?? 'is invalid',
      }));
      return reply.status(422).send(errorBody('VALIDATION_FAILED', 'The request is invalid', details));
    }
    const status = error.statusCode ?? 500;
    if (status === 413) {
      return reply
        .status(413)
        .send(errorBody('PAYLOAD_TOO_LARGE', 'The upload is larger than this server accepts'));
    }
    if (status === 415) {
      return reply.status(415).send(errorBody('UNSUPPORTED_MEDIA_TYPE', error.message));
    }
    if (status >= 400 && status < 500) {
      return reply.status(status).send(errorBody(error.code ?? 'BAD_REQUEST', error.message));
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply
      .status(500)
      .send(errorBody('INTERNAL_ERROR', 'Something went wrong on our side; it has been logged'));
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send(errorBody('NOT_FOUND', `No route ${request.method} ${request.url.split('?')[0]}`)),
  );
}
