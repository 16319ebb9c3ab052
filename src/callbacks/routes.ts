import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { carrierNames } from '../core/change-types.ts';
import type { CallbackIngress } from './callback-ingress.ts';

/**
 * `POST /callbacks/{carrier}/{carrierAccountId}`: a carrier's asynchronous result. Answers 200 to every
 * authenticated callback, so the carrier does not send it again; a repeated one changes nothing.
 */
export const callbackRoutes: FastifyPluginAsyncZod<{ ingress: CallbackIngress }> = async (
  app,
  { ingress },
) => {
  app.post(
    '/:carrier/:carrierAccountId',
    {
      schema: {
        tags: ['carrier callbacks'],
        summary: 'A carrier callback, authenticated with the credentials registered for the account',
        params: z.object({ carrier: z.enum(carrierNames), carrierAccountId: z.string().min(1).max(64) }),
        body: z.unknown(),
      },
    },
    async (request) =>
      ingress.receive(request.params.carrier, request.params.carrierAccountId, {
        headers: request.headers,
        body: request.body,
      }),
  );
};
