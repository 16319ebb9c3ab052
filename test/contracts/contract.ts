import { createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { z } from 'zod';

/**
 * One operation of a carrier's published contract: how it is called and what it answers, written from
 * the carrier's documents (or, where there are none, from the production code that called it), never
 * from our client or simulator. `source` names where.
 */
export interface Operation {
  name: string;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** The path as published; `:name` is a path parameter. */
  path: string;
  source: string;
  /** Headers the request must carry (names in lower case). */
  headers?: z.ZodType;
  query?: z.ZodType;
  /** The body (JSON, or the fields of a form). Strict: a field the contract does not name is an error. */
  request?: z.ZodType;
  /** Answers by status. */
  responses: Partial<Record<number, z.ZodType>>;
  /** Whether our client sends it (coverage is checked for these). */
  client: boolean;
}

export interface Contract {
  carrier: string;
  /** The carrier's error envelopes: any 4xx or 5xx answer must be one of them. */
  errors: z.ZodType;
  operations: Operation[];
}

/** One request and its answer, as they crossed the wire. */
export interface Exchange {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  body: unknown;
  status: number;
  responseHeaders: IncomingHttpHeaders;
  response: unknown;
}

const parse = (raw: string, contentType: string | undefined): unknown => {
  if (raw === '') return undefined;
  if (contentType?.includes('application/x-www-form-urlencoded'))
    return Object.fromEntries(new URLSearchParams(raw));
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
};

/**
 * An HTTP proxy in front of a simulator that records every exchange. The request goes on with its own
 * Host header, so links the simulator builds from it point back through the proxy.
 */
export async function recordingProxy(target: string) {
  const exchanges: Exchange[] = [];
  const to = new URL(target);
  const server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const raw = Buffer.concat(chunks);
      const forwarded = httpRequest(
        {
          host: to.hostname,
          port: to.port,
          method: incoming.method,
          path: `${to.pathname.replace(/\/$/, '')}${incoming.url}`,
          headers: { ...incoming.headers, 'accept-encoding': 'identity' },
        },
        (answer) => {
          const answerChunks: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => answerChunks.push(chunk));
          answer.on('end', () => {
            const body = Buffer.concat(answerChunks);
            const url = new URL(incoming.url ?? '/', 'http://proxy');
            exchanges.push({
              method: incoming.method ?? 'GET',
              path: url.pathname,
              query: Object.fromEntries(url.searchParams),
              headers: incoming.headers,
              body: parse(raw.toString('utf8'), incoming.headers['content-type']),
              status: answer.statusCode ?? 0,
              responseHeaders: answer.headers,
              response: parse(body.toString('utf8'), answer.headers['content-type']),
            });
            const { 'transfer-encoding': _te, connection: _c, ...headers } = answer.headers;
            outgoing.writeHead(answer.statusCode ?? 502, { ...headers, 'content-length': body.length });
            outgoing.end(body);
          });
        },
      );
      forwarded.on('error', () => {
        outgoing.writeHead(502).end();
      });
      forwarded.end(raw);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    exchanges,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const pathPattern = (path: string) =>
  new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\\?:\w+/g, '[^/]+')}$`);

/** The contract's operation for an exchange, by method and path. */
export const operationOf = (contract: Contract, exchange: Pick<Exchange, 'method' | 'path'>) =>
  contract.operations.find(
    (operation) => operation.method === exchange.method && pathPattern(operation.path).test(exchange.path),
  );

const issues = (schema: z.ZodType, value: unknown): string | undefined => {
  const parsed = schema.safeParse(value);
  return parsed.success
    ? undefined
    : parsed.error.issues.map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`).join('; ');
};

/**
 * Checks exchanges against the contract: what the client sent (headers, query, body) and what the
 * simulator answered (by status; any error in the carrier's envelope). Returns every problem, and the
 * operations seen.
 */
export function verifyExchanges(
  contract: Contract,
  exchanges: Exchange[],
  check: { requests: boolean; responses: boolean } = { requests: true, responses: true },
): { problems: string[]; covered: Set<string> } {
  const problems: string[] = [];
  const covered = new Set<string>();
  for (const exchange of exchanges) {
    const where = `${exchange.method} ${exchange.path} → ${exchange.status}`;
    const operation = operationOf(contract, exchange);
    if (!operation) {
      if (check.requests) problems.push(`${where}: no such operation in the ${contract.carrier} contract`);
      if (check.responses && exchange.status >= 400) {
        const problem = issues(contract.errors, exchange.response);
        if (problem) problems.push(`${where}: the answer is not the carrier's error envelope: ${problem}`);
      }
      continue;
    }
    covered.add(operation.name);
    if (check.requests) {
      for (const [part, schema, value] of [
        ['headers', operation.headers, exchange.headers],
        ['query', operation.query, exchange.query],
        ['body', operation.request, exchange.body],
      ] as const) {
        const problem = schema && issues(schema, value);
        if (problem)
          problems.push(`${operation.name} (${where}): the client sent a ${part} off contract: ${problem}`);
      }
    }
    if (check.responses) {
      const schema =
        operation.responses[exchange.status] ?? (exchange.status >= 400 ? contract.errors : undefined);
      if (!schema)
        problems.push(`${operation.name} (${where}): status ${exchange.status} is not in the contract`);
      else {
        const problem = issues(schema, exchange.response);
        if (problem)
          problems.push(`${operation.name} (${where}): the simulator answered off contract: ${problem}`);
      }
    }
  }
  return { problems, covered };
}

/** The client operations of the contract that no exchange covered. */
export const uncovered = (contract: Contract, covered: Set<string>) =>
  contract.operations
    .filter((operation) => operation.client && !covered.has(operation.name))
    .map((o) => o.name);
