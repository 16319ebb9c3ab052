import type { CarrierErrorKind } from '../../core/carrier-error.ts';
import type { ErrorCode } from '../../core/errors.ts';
import type { RowError } from '../../core/flow.ts';
import { jasperErrorSchema } from './client.ts';

/**
 * Control Center's error codes that mean more than "rejected" (Cisco IoT Control Center REST API,
 * "Error Handling" / troubleshooting checklist). `confirmed`: the code and meaning are Cisco's; the
 * others are our simulator's own, kept so that its refusals read as precisely (docs/carriers/jasper.md).
 */
export const jasperCodes = {
  invalidCredentials: { code: '10000001', confirmed: true },
  invalidIccid: { code: '10000003', confirmed: true },
  /** A field the function does not take (Control Center refuses it rather than ignoring it). */
  unknownField: { code: '10000028', confirmed: true },
  /** Over the account's call rate: retried with backoff, whatever HTTP status carries it. */
  rateLimitExceeded: { code: '40000029', confirmed: true },
  invalidStatusChange: { code: '20000017', confirmed: false },
  unknownRatePlan: { code: '20000018', confirmed: false },
  communicationPlanNotAllowed: { code: '20000019', confirmed: false },
} as const;

/** How each code reads as a row's error. */
export const jasperRejectionCodes: Record<string, ErrorCode> = {
  [jasperCodes.invalidIccid.code]: 'DEVICE_NOT_FOUND',
  [jasperCodes.invalidStatusChange.code]: 'INVALID_TRANSITION',
  [jasperCodes.unknownRatePlan.code]: 'UNKNOWN_RATE_PLAN',
  [jasperCodes.communicationPlanNotAllowed.code]: 'COMMUNICATION_PLAN_NOT_ALLOWED',
};

/** A refused row's error, with the code its carrier code reads as. */
export const mapJasperRejection = (error: RowError): RowError => ({
  ...error,
  code: (error.carrierCode && jasperRejectionCodes[error.carrierCode]) || error.code,
});

/** Jasper's envelope: `{errorMessage, errorCode}`, the code sometimes absent. */
export const parseJasperError = (_status: number, body: unknown) => {
  const parsed = jasperErrorSchema.safeParse(body);
  return parsed.success ? { code: parsed.data.errorCode, message: parsed.data.errorMessage } : {};
};

/**
 * A rate-limit refusal is transient whatever HTTP status it comes with (Control Center has been seen
 * to carry it on a 400): the call is retried with backoff, the row is not failed.
 */
export const classifyJasperError = (
  _status: number,
  _body: unknown,
  parsed: { code?: string },
): CarrierErrorKind | undefined =>
  parsed.code === jasperCodes.rateLimitExceeded.code ? 'transient' : undefined;
