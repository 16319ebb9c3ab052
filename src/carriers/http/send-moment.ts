import type { Dispatcher } from 'undici';
import type { SendMoment } from '../limits/call-limiter.ts';

/**
 * undici does not write a request when it is dispatched: on a reused keep-alive socket it waits for the
 * next turn of the event loop (its idle-socket check, `setImmediate`), and a busy loop can hold it there
 * for hundreds of milliseconds. So the moments a limiter spaces requests by (ADR 0016) are taken here,
 * where undici writes the request.
 */

/** The error a request stopped by {@link SendMoment.sending} fails with. */
export class SendWindowMissed extends Error {
  /** Read by the failure classification: the request certainly never reached the carrier. */
  readonly code = 'BULKCHANGE_SEND_WINDOW_MISSED';
  constructor() {
    super('the request was not written in time for its limiter slot, so it was not sent');
    this.name = 'SendWindowMissed';
  }
}

/** The caller's handler, every callback passed through, telling `moment` when the request leaves. */
const observed = (inner: Dispatcher.DispatchHandler, moment: SendMoment): Dispatcher.DispatchHandler => ({
  onRequestStart: (controller, context) => {
    inner.onRequestStart?.(controller, context);
    if (!controller.aborted && !moment.sending()) controller.abort(new SendWindowMissed());
  },
  onRequestUpgrade: (...args) => inner.onRequestUpgrade?.(...args),
  onResponseStarted: () => inner.onResponseStarted?.(),
  onResponseStart: (...args) => inner.onResponseStart?.(...args),
  onResponseData: (...args) => inner.onResponseData?.(...args),
  onResponseEnd: (...args) => inner.onResponseEnd?.(...args),
  onResponseError: (...args) => inner.onResponseError?.(...args),
  onBodySent: (chunk) => inner.onBodySent?.(chunk),
  onRequestSent: () => {
    moment.sent();
    inner.onRequestSent?.();
  },
});

/** `dispatcher`, reporting the moments of the one request sent through it to `moment`. */
export const observingSend = (dispatcher: Dispatcher, moment: SendMoment): Dispatcher =>
  dispatcher.compose((dispatch) => (options, handler) => dispatch(options, observed(handler, moment)));
