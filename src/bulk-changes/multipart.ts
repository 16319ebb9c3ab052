import type { Multipart } from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../core/errors.ts';

/**
 * The parts of a multipart upload, one at a time. A body that is not well-formed multipart is the
 * caller's fault (400), whatever the parser threw; the plugin's own client errors (a file too large, a
 * request that is not multipart) keep their status, and ours pass through.
 */
export function multipartParts(
  request: FastifyRequest,
  limits: { fileSize: number; files: number },
): { next(): Promise<IteratorResult<Multipart>> } {
  const parts = request.parts({ limits })[Symbol.asyncIterator]();
  return {
    async next() {
      try {
        return await parts.next();
      } catch (error) {
        throw asClientError(error);
      }
    },
  };
}

/** An error reading a multipart body (a part's own stream included), as the caller's fault. */
export function asClientError(error: unknown): unknown {
  if (error instanceof AppError || typeof (error as { statusCode?: unknown }).statusCode === 'number')
    return error;
  return new AppError('BAD_REQUEST', `The multipart body is malformed: ${(error as Error).message}`);
}
