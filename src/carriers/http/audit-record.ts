import type { AuditRecord } from '../../core/audit-record.ts';
import type { CarrierError } from '../../core/carrier-error.ts';
import type { CarrierCall, EncodedRequest } from './call.ts';
import { redactForAudit, redactHeaders, redactUrl } from './redaction.ts';

/** What every attempt's audit record says of the request, redacted. */
export function auditedRequest(
  system: string,
  call: CarrierCall<unknown>,
  encoded: EncodedRequest,
  attempt: { attempt: number; at: number; durationMs: number },
): Omit<AuditRecord, 'response' | 'httpStatus' | 'outcome'> {
  return {
    action: call.action,
    system,
    method: call.method,
    url: redactUrl(encoded.url),
    request: { headers: redactHeaders(encoded.headers), body: redactForAudit(call.body) },
    ...attempt,
  };
}

/** The record of an attempt: its request, the (redacted) answer if any, and the error it became. */
export function auditRecord(
  request: Omit<AuditRecord, 'response' | 'httpStatus' | 'outcome'>,
  answer: { httpStatus: number; body: unknown } | null,
  error: CarrierError | { message: string } | undefined,
): AuditRecord {
  const carrierCode = error && 'carrierCode' in error ? error.carrierCode : undefined;
  return {
    ...request,
    response: answer === null ? null : redactForAudit(answer.body),
    httpStatus: answer?.httpStatus ?? null,
    outcome: error === undefined ? 'success' : 'kind' in error ? error.kind : 'transient',
    ...(error ? { error: error.message } : {}),
    ...(carrierCode ? { carrierCode } : {}),
  };
}
