import type { z } from 'zod';
import type { SimResponse } from './definition.ts';

/** The admin API's error envelope (API.md §5), for the kit's admin routes and those a carrier adds. */
export const adminError = (
  status: number,
  code: string,
  message: string,
  details: object[] = [],
): SimResponse => ({
  status,
  body: { error: { code, message, details } },
});

/** A refused admin body or query, one detail per invalid field. */
export const adminValidationError = (error: z.ZodError): SimResponse =>
  adminError(
    400,
    'VALIDATION_FAILED',
    'The request has invalid fields',
    error.issues.map((issue) => ({ field: issue.path.join('.'), code: issue.code, message: issue.message })),
  );
