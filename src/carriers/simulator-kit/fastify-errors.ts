/** Fastify's own 4xx (bad JSON, unsupported media type, body too large) keep their status; the rest is 500. */
export const clientErrorStatus = (error: unknown): number => {
  const status =
    typeof error === 'object' && error !== null && 'statusCode' in error ? error.statusCode : 500;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : 500;
};

export const errorMessage = (error: unknown): string =>
  error instanceof Error ? error.message : String(error);
