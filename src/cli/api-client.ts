import type { Readable } from 'node:stream';
import { Agent, request } from 'undici';
import type { z } from 'zod';
import { type ErrorAnswer, errorAnswerSchema } from './api-answers.ts';
import { CliError, RefusedError, UnreachableError } from './cli-error.ts';

/** An answer: its status, its headers and its body (JSON when it is JSON, else the text). */
export interface ApiAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

interface SendOptions {
  body?: Readable | string;
  headers?: Record<string, string>;
  /** A long-lived answer (an event stream): no deadline between chunks. */
  streamed?: boolean;
}

/** A small client for the bulkchange API at `baseUrl`, authenticated with `apiKey`. */
export function createApiClient(baseUrl: string, apiKey: string) {
  const dispatcher = new Agent();
  const origin = baseUrl.replace(/\/+$/, '');

  const send = async (method: 'GET' | 'POST', path: string, options: SendOptions = {}) => {
    try {
      return await request(origin + path, {
        method,
        dispatcher,
        headers: { authorization: `Bearer ${apiKey}`, ...options.headers },
        body: options.body,
        // The server answers an upload once every row is checked, and an event stream stays quiet
        // while nothing changes: neither has a useful deadline.
        headersTimeout: options.body ? 0 : undefined,
        bodyTimeout: options.streamed ? 0 : undefined,
      });
    } catch (error) {
      throw unreachable(error);
    }
  };
  const unreachable = (error: unknown) =>
    new UnreachableError(`Cannot reach the bulkchange API at ${origin}: ${describe(error)}`);

  const readText = async (body: { text(): Promise<string> }) => {
    try {
      return await body.text();
    } catch (error) {
      throw unreachable(error);
    }
  };

  const answer = async (
    method: 'GET' | 'POST',
    path: string,
    options: SendOptions = {},
  ): Promise<ApiAnswer> => {
    const response = await send(method, path, options);
    const text = await readText(response.body);
    return { status: response.statusCode, headers: response.headers, body: parseJson(text) };
  };

  return {
    get: (path: string) => answer('GET', path),
    /** A POST without a body (cancel, retry). */
    post: (path: string) => answer('POST', path),
    /** A POST with a small JSON body (approve, reject). */
    postJson: (path: string, body: Record<string, unknown>) =>
      answer('POST', path, { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    /** A file as the request body (a CSV or an XLSX, by its content type), streamed. */
    postFile: (path: string, body: Readable, contentType: string, headers: Record<string, string> = {}) =>
      answer('POST', path, { body, headers: { 'content-type': contentType, ...headers } }),
    /**
     * The body of an answer that may be long or long-lived (a results file, Server-Sent Events), chunk
     * by chunk, never held whole; rejects on a non-200 (a 4xx as refused).
     */
    async stream(path: string, accept = 'text/event-stream'): Promise<AsyncIterable<Buffer>> {
      const response = await send('GET', path, { headers: { accept }, streamed: true });
      if (response.statusCode !== 200) {
        const text = await readText(response.body);
        throw unexpected(
          { status: response.statusCode, headers: response.headers, body: parseJson(text) },
          `GET ${path}`,
        );
      }
      return response.body;
    },
    close: () => dispatcher.close(),
  };
}
export type ApiClient = ReturnType<typeof createApiClient>;

/** A 200 answer checked against `schema`; anything else is reported with the server's error. */
export function expectOk<T>(answer: ApiAnswer, schema: z.ZodType<T>, what: string): T {
  if (answer.status !== 200)
    throw new CliError(`${what} answered ${answer.status}: ${describeAnswer(answer.body)}`);
  return expectShape(answer, schema, what);
}

/**
 * An answer with the `status` expected, checked against `schema`. A refusal the caller can act on
 * (a 4xx with the API's error envelope, but a refused key) is a RefusedError (exit 1), anything else a
 * CliError (exit 2).
 */
export function expectAnswer<T>(answer: ApiAnswer, status: number, schema: z.ZodType<T>, what: string): T {
  if (answer.status !== status) throw unexpected(answer, what);
  return expectShape(answer, schema, what);
}

function unexpected(answer: ApiAnswer, what: string): CliError {
  const error = apiError(answer.body);
  if (error && answer.status >= 400 && answer.status < 500 && answer.status !== 401)
    return new RefusedError(`Refused (${answer.status} ${error.code}): ${error.message}`);
  return new CliError(`${what} answered ${answer.status}: ${describeAnswer(answer.body)}`);
}

export function expectShape<T>(answer: ApiAnswer, schema: z.ZodType<T>, what: string): T {
  const parsed = schema.safeParse(answer.body);
  if (!parsed.success) {
    throw new CliError(`${what} answered ${answer.status} with an unexpected body: ${preview(answer.body)}`);
  }
  return parsed.data;
}

/** The API's error envelope (API §1), when the body is one. */
export function apiError(body: unknown): ErrorAnswer | undefined {
  const parsed = errorAnswerSchema.safeParse(body);
  return parsed.success ? parsed.data.error : undefined;
}

export function describeAnswer(body: unknown): string {
  const error = apiError(body);
  return error ? `${error.code}: ${error.message}` : preview(body);
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const preview = (body: unknown) => {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return text.length > 300 ? `${text.slice(0, 300)}…` : text || '(empty)';
};

/** Connection errors often carry their meaning in `code` only (ECONNREFUSED, ENOTFOUND). */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as Error & { code?: string }).code;
  return [error.message, code && !error.message.includes(code) ? `(${code})` : ''].filter(Boolean).join(' ');
}
