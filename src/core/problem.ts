import { ZodError } from 'zod';
import { type ApiErrorCode, AppError, type ErrorDetail, errorCatalogue } from './errors.ts';

/**
 * Any error as the API and the portal report it (API.md §1): a status, a stable code, a sentence and
 * details. The one place that decides it, so the JSON of the API and the pages of the portal can never
 * disagree, and no input can turn into a 500: only a bug is one.
 */
export interface Problem {
  status: number;
  /** A catalogued code, or a Fastify / plugin `FST_…` code for a client error that has one. */
  code: string;
  message: string;
  details: ErrorDetail[];
  /** Headers the answer must carry (`Retry-After` of a 429). */
  headers: Record<string, string>;
}

/** A client error raised by Fastify or a plugin: a status and often an `FST_…` code. */
interface HttpLikeError {
  statusCode?: unknown;
  status?: unknown;
  code?: unknown;
  message?: unknown;
  headers?: unknown;
  /** Fastify's schema validation (with `fastify-type-provider-zod`, one item per zod issue). */
  validation?: Array<{ instancePath?: string; message?: string }>;
  validationContext?: string;
}

const problem = (
  code: ApiErrorCode,
  message: string = errorCatalogue[code].summary,
  details: ErrorDetail[] = [],
  headers: Record<string, string> = {},
): Problem => ({ status: errorCatalogue[code].status, code, message, details, headers });

/** Statuses whose Fastify errors get one of our codes rather than theirs. */
const codeForStatus: Partial<Record<number, ApiErrorCode>> = {
  408: 'REQUEST_TIMEOUT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'TOO_MANY_REQUESTS',
  431: 'HEADERS_TOO_LARGE',
};

const fieldOf = (path: string | undefined, context: string | undefined) =>
  (path ?? '').split('/').filter(Boolean).join('.') || context || '';

const retryAfterOf = (headers: unknown): Record<string, string> => {
  const value = (headers as Record<string, unknown> | undefined)?.['retry-after'];
  return value === undefined ? {} : { 'retry-after': String(value) };
};

export function problemOf(error: unknown): Problem {
  if (error instanceof AppError)
    return problem(error.code, error.message, error.details, { ...error.headers });
  if (error instanceof ZodError) {
    return problem(
      'VALIDATION_FAILED',
      'The request is invalid',
      error.issues.map((issue) => ({
        field: issue.path.join('.'),
        code: 'INVALID_FIELD',
        message: issue.message,
      })),
    );
  }
  const http = (typeof error === 'object' && error !== null ? error : {}) as HttpLikeError;
  if (Array.isArray(http.validation)) {
    return problem(
      'VALIDATION_FAILED',
      'The request is invalid',
      http.validation.map((issue) => ({
        field: fieldOf(issue.instancePath, http.validationContext),
        code: 'INVALID_FIELD',
        message: issue.message ?? 'is invalid',
      })),
    );
  }
  const status = typeof http.statusCode === 'number' ? http.statusCode : http.status;
  if (typeof status !== 'number' || status < 400 || status >= 500) return problem('INTERNAL_ERROR');
  const message = typeof http.message === 'string' && http.message !== '' ? http.message : 'Bad request';
  const ours = codeForStatus[status];
  if (ours)
    return problem(
      ours,
      status === 429 ? errorCatalogue[ours].summary : message,
      [],
      retryAfterOf(http.headers),
    );
  const code =
    typeof http.code === 'string' && /^FST_[A-Z0-9_]+$/.test(http.code) ? http.code : 'BAD_REQUEST';
  return { status, code, message, details: [], headers: {} };
}

/** The API's error body. */
export const errorBody = (problem: Pick<Problem, 'code' | 'message' | 'details'>) => ({
  error: { code: problem.code, message: problem.message, details: problem.details },
});
