/** One row- or request-level problem, in the API's `details` shape. */
export interface ErrorDetail {
  row?: number;
  field?: string;
  code: string;
  message: string;
}

/**
 * An error the API reports with a stable code and an HTTP status. Anything else that escapes a route
 * is a bug and becomes a 500 without internals.
 */
export class AppError extends Error {
  readonly code: string;
  readonly statusCode: number;
  readonly details: ErrorDetail[];

  constructor(
    statusCode: number,
    code: string,
    message: string,
    details: ErrorDetail[] = [],
    cause?: unknown,
  ) {
    super(message, { cause });
    this.name = 'AppError';
    this.statusCode = statusCode;
    this.code = code;
    this.details = details;
  }
}

export const notFound = (what: string) => new AppError(404, 'NOT_FOUND', `${what} not found`);

export const validationFailed = (
  details: ErrorDetail[],
  message = 'The request has invalid rows or fields',
) => new AppError(422, 'VALIDATION_FAILED', message, details);

export const conflict = (code: string, message: string) => new AppError(409, code, message);
