/**
 * How a failed carrier call is handled (DESIGN §2.7):
 * - `transient`: network, timeout, 5xx, 429 — retried with backoff, honouring `retryAfterMs`;
 * - `rejected`: the carrier refused this line — the row fails at once with the carrier's code and message;
 * - `auth`: credentials refused — the account's rows fail and its circuit opens;
 * - `rule`: a carrier business rule (quota, plan-change limit) — the row fails with an explanation,
 *   unless it is a line quota's refusal: then it waits for the quota's next period (engine.ts).
 */
export type CarrierErrorKind = 'transient' | 'rejected' | 'auth' | 'rule';

export interface CarrierErrorInit {
  kind: CarrierErrorKind;
  message: string;
  httpStatus?: number;
  carrierCode?: string;
  retryAfterMs?: number;
  cause?: unknown;
}

export class CarrierError extends Error {
  readonly kind: CarrierErrorKind;
  readonly httpStatus: number | undefined;
  readonly carrierCode: string | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(init: CarrierErrorInit) {
    super(init.message, { cause: init.cause });
    this.name = 'CarrierError';
    this.kind = init.kind;
    this.httpStatus = init.httpStatus;
    this.carrierCode = init.carrierCode;
    this.retryAfterMs = init.retryAfterMs;
  }
}

export const isCarrierError = (error: unknown): error is CarrierError => error instanceof CarrierError;
