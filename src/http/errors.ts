import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../core/errors.ts';
import { errorBody, type Problem, problemOf } from '../core/problem.ts';

/** Sends a problem in the API's shape; a 500 is logged with its cause and shows nothing of it. */
export function sendProblem(request: FastifyRequest, reply: FastifyReply, error: unknown) {
  const problem = problemOf(error);
  if (problem.status >= 500) request.log.error({ err: error }, 'unhandled error');
  // The rest of an oversized upload is never read: the connection cannot carry another request.
  if (problem.status === 413) reply.header('connection', 'close');
  return reply.status(problem.status).headers(problem.headers).send(errorBody(problem));
}

/** A problem as the raw bytes of an HTTP answer, for errors that happen before Fastify has a request. */
export function rawProblem(problem: Problem): string {
  const body = JSON.stringify(errorBody(problem));
  return [
    `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status] ?? 'Error'}`,
    'content-type: application/json; charset=utf-8',
    `content-length: ${Buffer.byteLength(body)}`,
    'connection: close',
    '',
    body,
  ].join('\r\n');
}

/**
 * Errors of the connection before there is a request (Fastify's `clientErrorHandler`): malformed HTTP,
 * headers too large, a request that did not arrive in time. Answered in the API's shape, then closed.
 */
export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const code =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? 'REQUEST_TIMEOUT'
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? 'HEADERS_TOO_LARGE'
        : 'BAD_REQUEST';
  if (socket.writable) socket.write(rawProblem(problemOf(new AppError(code, clientErrorMessages[code]))));
  socket.destroy();
}

const clientErrorMessages = {
  REQUEST_TIMEOUT: 'The request did not arrive in time',
  HEADERS_TOO_LARGE: 'The request headers are too large',
  BAD_REQUEST: 'The request is not valid HTTP',
} as const;

/**
 * Every error leaves in the API's shape (`core/problem.ts` decides it). Bad input is a 4xx with
 * details; only our own faults are a 500, and those never show internals.
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => sendProblem(request, reply, error));
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send(
      errorBody({
        code: 'NOT_FOUND',
        message: `No route ${request.method} ${request.url.split('?')[0]}`,
        details: [],
      }),
    ),
  );
}
