import type { AuditRecord } from '../../core/audit-record.ts';
import type { CarrierError } from '../../core/carrier-error.ts';
import type { CarrierCall, EncodedRequest } from './call.ts';
import { AUDIT_MAX_BYTES, redactForAudit, redactHeaders, redactUrl } from './redaction.ts';

/** An attempt's request as audited, and how much of each body its record keeps. */
export type AuditedRequest = Omit<AuditRecord, 'response' | 'httpStatus' | 'outcome'> & { bodyBytes: number };

/**
 * What every attempt's audit record says of the request, redacted. A batch call's context allows its
 * record more of each body (`bodyBytes`): enough to keep every row's part of it.
 */
export function auditedRequest(
  system: string,
  call: CarrierCall<unknown>,
  encoded: EncodedRequest,
  attempt: { attempt: number; at: number; durationMs: number; bodyBytes?: number },
): AuditedRequest {
  const { bodyBytes = AUDIT_MAX_BYTES, ...timing } = attempt;
  return {
    action: call.action,
    system,
    method: call.method,
    url: redactUrl(encoded.url),
    request: { headers: redactHeaders(encoded.headers), body: redactForAudit(call.body, bodyBytes) },
    ...timing,
    bodyBytes,
  };
}

/** The record of an attempt: its request, the (redacted) answer if any, and the error it became. */
export function auditRecord(
  audited: AuditedRequest,
  answer: { httpStatus: number; body: unknown } | null,
  error: CarrierError | { message: string } | undefined,
): AuditRecord {
  const carrierCode = error && 'carrierCode' in error ? error.carrierCode : undefined;
  const { bodyBytes, ...request } = audited;
  return {
    ...request,
    response: answer === null ? null : redactForAudit(answer.body, bodyBytes),
    httpStatus: answer?.httpStatus ?? null,
    outcome: error === undefined ? 'success' : 'kind' in error ? error.kind : 'transient',
    ...(error ? { error: error.message } : {}),
    ...(carrierCode ? { carrierCode } : {}),
  };
}
