import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AttemptThrottle } from '../accounts/attempt-throttle.ts';
import { carrierNames } from '../core/change-types.ts';
import { AppError } from '../core/errors.ts';
import { bodyDeadline } from '../shared/body-deadline.ts';
import { type CallbackIngress, callbackReceiptSchema } from './callback-ingress.ts';

/**
 * A callback carries one device's result: a few KB. Fastify refuses a larger body from its
 * Content-Length, or while reading, before anything parses it.
 */
export const CALLBACK_BODY_LIMIT_BYTES = 256 * 1024;

/**
 * `POST /callbacks/{carrier}/{carrierAccountId}`: a carrier's asynchronous result. Answers 200 to every
 * authenticated callback, so the carrier does not send it again; a repeated one changes nothing.
 * Cheap to refuse: an unknown account or wrong `Authorization` is refused before the body is read, the
 * body is small and must arrive quickly, and an address that fails too often is throttled.
 */
export const callbackRoutes: FastifyPluginAsyncZod<{
  ingress: CallbackIngress;
  throttle: AttemptThrottle;
  bodyTimeoutMs: number;
}> = async (app, { ingress, throttle, bodyTimeoutMs }) => {
  const deadline = bodyDeadline(bodyTimeoutMs);
  app.post(
    '/:carrier/:carrierAccountId',
    {
      bodyLimit: CALLBACK_BODY_LIMIT_BYTES,
      onRequest: [
        deadline.onRequest,
        async (request) => {
          const { carrier, carrierAccountId } = request.params as Record<string, string>;
          await throttle.admit(request);
          await ingress.admit(carrier, carrierAccountId, request.headers).catch(async (error: unknown) => {
            await throttle.failed(request);
            throw error;
          });
        },
      ],
      preValidation: deadline.preValidation,
      schema: {
        tags: ['carrier callbacks'],
        summary: 'A carrier callback, authenticated with the credentials registered for the account',
        params: z.object({ carrier: z.enum(carrierNames), carrierAccountId: z.string().min(1).max(64) }),
        body: z.unknown(),
        response: { 200: callbackReceiptSchema },
      },
    },
    async (request) =>
      ingress
        .receive(request.params.carrier, request.params.carrierAccountId, {
          headers: request.headers,
          body: request.body,
        })
        .catch(async (error: unknown) => {
          if (error instanceof AppError && error.code === 'UNAUTHENTICATED') await throttle.failed(request);
          throw error;
        }),
  );
};
