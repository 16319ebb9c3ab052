import type { CarrierErrorKind } from './carrier-error.ts';

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** One HTTP attempt, as the audit log stores it (secrets redacted, bodies ≤ 64 KiB). */
export interface AuditRecord {
  action: string;
  system: string;
  method: HttpMethod;
  /** Full URL with query; no user info; secret-looking query parameters redacted. */
  url: string;
  request: { headers: Record<string, string>; body: unknown };
  /** Parsed JSON or text (redacted, truncated), `null` for an empty body or no response. */
  response: unknown;
  /** `null` when no response arrived (network error, timeout, abort). */
  httpStatus: number | null;
  durationMs: number;
  outcome: 'success' | CarrierErrorKind;
  /** The error message when `outcome` is not `success`. */
  error?: string;
  /** The carrier's error code (or ours: `TIMEOUT`, `NETWORK_ERROR`, `BAD_RESPONSE`), when known. */
  carrierCode?: string;
  /** 1 for the first attempt of a `send`, 2 for its first short retry, … */
  attempt: number;
  /** Epoch ms when the request was sent. */
  at: number;
}
