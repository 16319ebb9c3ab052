import type { FastifyInstance } from 'fastify';
import { validationFailed } from '../core/errors.ts';
import { nulCharacterAt, nulDetail } from '../core/text.ts';

const ENCODED_NUL = /%00/i;

/**
 * Refuses a NUL character anywhere in a request's URL (path and query, encoded or not) or parsed body
 * with a 422, before a route, a repository or the database sees it (a NUL made PostgreSQL answer 500).
 * Streamed bodies (CSV, multipart) are checked where they are read.
 */
export function refuseNulCharacters(app: FastifyInstance): void {
  app.addHook('onRequest', async (request) => {
    if (ENCODED_NUL.test(request.url) || request.url.includes('\u0000')) {
      throw validationFailed([nulDetail('url')], 'The URL holds a NUL character');
    }
  });
  app.addHook('preValidation', async (request) => {
    const at = nulCharacterAt(request.body);
    if (at !== undefined) throw validationFailed([nulDetail(at || 'body')], 'The body holds a NUL character');
  });
}
