import type { ZodType } from 'zod';
import type { AuditRecord, HttpMethod } from '../../core/audit-record.ts';
import type { CallLimiter } from '../limits/call-limiter.ts';

export type QueryValue = string | number | boolean | null | undefined;
export type Query = Readonly<Record<string, QueryValue | readonly QueryValue[]>>;

export type ResponseHeaders = Record<string, string | string[] | undefined>;

/** One carrier call. */
export interface CarrierCall<T = unknown> {
  /** What this call does, for the audit log (e.g. `jasper.updateStatus`). */
  action: string;
  method: HttpMethod;
  /** Joined to the base URL (`/devices/x` or `devices/x`); an absolute `http(s)://` URL is used as is. */
  path: string;
  query?: Query;
  /**
   * Sent as JSON (`content-type: application/json`); a `URLSearchParams` is sent form-encoded
   * (`application/x-www-form-urlencoded`, e.g. OAuth token requests). `undefined` sends no body.
   */
  body?: unknown;
  /** Extra headers for this call (on top of the client's auth headers). */
  headers?: Readonly<Record<string, string>>;
  /** Validates (and may transform) a 2xx body; a mismatch is a `rejected` error coded `BAD_RESPONSE`. */
  responseSchema?: ZodType<T>;
  /**
   * Whether sending the call twice is harmless. Default: true for GET / HEAD / PUT / DELETE, false for
   * POST / PATCH. A non-idempotent call is retried in process only when the carrier certainly did not
   * act on it (429, 503, connection refused / DNS failure); after a timeout, a reset connection or
   * another 5xx it is thrown at once so the engine can reconcile instead of re-sending blindly.
   */
  idempotent?: boolean;
  /**
   * A second limit this call counts against, on top of the account's (ThingSpace: 100 activate
   * requests a minute). Every HTTP attempt of the call takes a slot of both.
   */
  alsoCountedBy?: CallLimiter;
}

export interface CallContext {
  /** Receives one record per HTTP attempt, synchronously, right after the attempt. */
  audit: (entry: AuditRecord) => void;
  /** Aborts waiting for the limiter, the request in flight, and further retries. */
  signal?: AbortSignal;
  /** How much of each body the call's audit record keeps (default `AUDIT_MAX_BYTES`): more for a batch. */
  auditBodyBytes?: number;
}

export interface CarrierResponse<T> {
  status: number;
  body: T;
  headers: ResponseHeaders;
}

/** What goes on the wire for a call: its URL, headers and encoded body. */
export interface EncodedRequest {
  url: string;
  headers: Record<string, string>;
  payload: string | undefined;
}

/** Joins a path (or takes an absolute URL as it is) to the base URL, with the query appended. */
export const joinUrl = (baseUrl: string, path: string, query: Query | undefined): string => {
  const url = /^https?:\/\//i.test(path)
    ? new URL(path)
    : new URL(baseUrl.replace(/\/+$/, '') + '/' + path.replace(/^\/+/, ''));
  if (query) {
    for (const [name, value] of Object.entries(query)) {
      const values: readonly QueryValue[] = Array.isArray(value) ? value : [value as QueryValue];
      for (const item of values)
        if (item !== undefined && item !== null) url.searchParams.append(name, String(item));
    }
  }
  return url.toString();
};

/**
 * A call as bytes: JSON, or form-encoded for a `URLSearchParams` body; the client's auth headers and
 * the call's own on top of the defaults.
 */
export function encodeRequest(
  baseUrl: string,
  call: CarrierCall<unknown>,
  authHeaders: Record<string, string>,
): EncodedRequest {
  const headers: Record<string, string> = { accept: 'application/json, text/plain;q=0.9, */*;q=0.5' };
  let payload: string | undefined;
  if (call.body instanceof URLSearchParams) {
    payload = call.body.toString();
    headers['content-type'] = 'application/x-www-form-urlencoded';
  } else if (call.body !== undefined) {
    payload = JSON.stringify(call.body);
    headers['content-type'] = 'application/json';
  }
  Object.assign(headers, authHeaders, call.headers);
  return { url: joinUrl(baseUrl, call.path, call.query), headers, payload };
}

/** Whether sending the call twice is harmless: the call says, else its method does. */
export const isIdempotent = (call: Pick<CarrierCall<unknown>, 'idempotent' | 'method'>): boolean =>
  call.idempotent ?? (call.method !== 'POST' && call.method !== 'PATCH');
