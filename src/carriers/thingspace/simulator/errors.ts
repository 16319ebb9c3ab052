import type { SimFailure, SimResponse } from '../../simulator-kit/definition.ts';

/**
 * The `errorCode` values this simulator answers (synchronously, HTTP 400) or puts in a callback's
 * `faultResponse.faultcode`. Those marked "own" are not published by Verizon (carrier-apis §1.7 lists
 * what is); they follow the documented `<Service>.<CLASS>.<Detail>` pattern and are stable, so that
 * clients and tests can key on them. Clients should match on the part after the service name.
 */
export const thingSpaceErrorCodes = {
  sessionTokenExpired: 'UnifiedWebService.REQUEST_FAILED.SessionToken.Expired',
  sessionTokenMissing: 'UnifiedWebService.REQUEST_FAILED.SessionToken.Format',
  sessionTokenInvalid: 'UnifiedWebService.INPUT_INVALID.SessionToken.Invalid',
  /** own */
  loginFailed: 'UnifiedWebService.REQUEST_FAILED.Login.InvalidCredentials',
  /** own: after 5 consecutive failed logins (the documented lock of the contact record). */
  loginLocked: 'UnifiedWebService.REQUEST_FAILED.Login.ContactLocked',
  accountNotFound: 'UnifiedWebService.REQUEST_FAILED.AccountNotFound',
  accountNotDefined: 'UnifiedWebService.INPUT_INVALID.Account.NotDefined',
  requestUndefined: 'UnifiedWebService.INPUT_INVALID.RequestUndefined',
  /** Documented as "missing required elements or an unknown failure": every schema violation. */
  unexpectedError: 'UnifiedWebService.REQUEST_FAILED.UnexpectedError',
  deviceKindInvalid: 'UnifiedWebService.INPUT_INVALID.Device.Kind.Invalid',
  deviceIdentifierInvalid: 'UnifiedWebService.INPUT_INVALID.Device.Identifier.Invalid',
  deviceNotFound: 'UnifiedWebService.REQUEST_FAILED.DeviceNotFound',
  deviceAlreadyActive: 'UnifiedWebService.REQUEST_FAILED.DeviceAlreadyActive',
  deviceStateInvalid: 'UnifiedWebService.INPUT_INVALID.DeviceState.Invalid',
  maxRequestsExceeded: 'UnifiedWebService.INPUT_INVALID.MaxRequestsExceeded',
  /** Spelled as published, placeholder included. */
  servicePlanNotFound: 'UnifiedWebService.REQUEST_FAILED._servicePlan_.NotFound',
  /** own: more than 5 provisioning actions (activate/suspend/restore/deactivate) on a line in a UTC day. */
  provisioningLimitExceeded: 'UnifiedWebService.REQUEST_FAILED.Device.ProvisioningLimitExceeded',
  /** own: more than 4 service plan changes on a line in a UTC calendar month. */
  planChangeLimitExceeded: 'UnifiedWebService.REQUEST_FAILED.ServicePlan.ChangeLimitExceeded',
  /** own: no service plan change while the line is suspended. */
  planChangeWhileSuspended: 'UnifiedWebService.REQUEST_FAILED.ServicePlan.DeviceSuspended',
  /** own: the new ICCID / IMEI of an identifier change belongs to another line. */
  deviceIdentifierInUse: 'UnifiedWebService.REQUEST_FAILED.Device.Identifier.InUse',
  /** own */
  requestNotFound: 'UnifiedWebService.REQUEST_FAILED.RequestNotFound',
  /** own */
  callbackNotFound: 'UnifiedWebService.REQUEST_FAILED.Callback.NotFound',
  /** own: the `refuseCallbackRegistration` fault (an account not enabled for callbacks). */
  callbackNotAllowed: 'UnifiedWebService.REQUEST_FAILED.Callback.NotAllowed',
} as const;

/** WSO2 gateway fault codes (carrier-apis §1.7), in `{"fault": {"code", "message", "description"}}`. */
export const thingSpaceGatewayCodes = {
  invalidCredentials: '900901',
  missingCredentials: '900902',
  noMatchingResource: '900906',
  /** WSO2's throttling code; ThingSpace documents no throttle answer (carrier-apis §1.9). */
  throttled: '900800',
  /** WSO2's "cannot reach the back end". */
  backendUnavailable: '101503',
} as const;

export interface Fault {
  faultcode: string;
  faultstring: string;
}

export const m2mError = (errorCode: string, errorMessage: string, status = 400): SimResponse => ({
  status,
  body: { errorCode, errorMessage },
});

export const gatewayFault = (
  status: number,
  code: string,
  message: string,
  description: string,
  headers?: Record<string, string>,
): SimResponse => ({ status, headers, body: { fault: { code, message, description } } });

/** What the kit's own refusals (outage, limits, injected errors, bad JSON, unknown paths) look like. */
export const thingSpaceFailureEnvelope = (failure: SimFailure): unknown => {
  switch (failure.kind) {
    case 'outage':
      return gatewayFault(503, thingSpaceGatewayCodes.backendUnavailable, 'Runtime Error', failure.message)
        .body;
    case 'rate_limited':
    case 'too_many_concurrent':
      return gatewayFault(429, thingSpaceGatewayCodes.throttled, 'Message throttled out', failure.message)
        .body;
    case 'not_found':
      return gatewayFault(
        404,
        thingSpaceGatewayCodes.noMatchingResource,
        'No matching resource found in the API for the given request',
        failure.message,
      ).body;
    case 'bad_request':
      return { errorCode: thingSpaceErrorCodes.unexpectedError, errorMessage: failure.message };
    case 'injected_error':
    case 'internal':
      return { errorCode: thingSpaceErrorCodes.unexpectedError, errorMessage: failure.message };
  }
};
