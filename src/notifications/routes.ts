import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type KeyAuth, principalOf, requireRole } from '../accounts/auth.ts';
import { actorOf } from '../audit/actor.ts';
import { eventTypes } from '../bulk-changes/event-types.ts';
import { fileAnswer, noContent, pageOf } from '../shared/answers.ts';
import { EVENT_STREAM_CONTENT_TYPE } from '../shared/event-stream.ts';
import type { EventFeed } from './event-feed.ts';
import { type NotificationSettings, notificationSettingsSchema } from './notification-settings.ts';
import {
  defaultWebhookEvents,
  deliveryViewSchema,
  endpointViewSchema,
  endpointWithSecretSchema,
  type Webhooks,
} from './webhooks.ts';

const idParams = z.object({ id: z.string().min(1).max(100) });
const webhookFields = {
  url: z.url({ protocol: /^https?$/ }).max(2000),
  events: z.array(z.enum(eventTypes)).min(1).max(eventTypes.length),
  description: z.string().trim().max(500),
  enabled: z.boolean(),
};

export interface NotificationRoutesOptions {
  auth: KeyAuth;
  webhooks: Webhooks;
  settings: NotificationSettings;
  feed: EventFeed;
}

/** Webhook endpoints and their delivery log, the tenant's e-mail addresses, and the live event feed. */
export const notificationRoutes: FastifyPluginAsyncZod<NotificationRoutesOptions> = async (
  app,
  { auth, webhooks, settings, feed },
) => {
  const viewer = requireRole(auth, 'viewer');
  const admin = requireRole(auth, 'admin');
  const tags = ['webhooks'];

  app.get(
    '/webhooks',
    { onRequest: admin, schema: { tags, response: { 200: pageOf(endpointViewSchema) } } },
    async (request) => ({ items: await webhooks.list(principalOf(request).tenantId), nextCursor: null }),
  );

  app.post(
    '/webhooks',
    {
      onRequest: admin,
      schema: {
        tags,
        summary: 'Add an endpoint; the answer holds its signing secret, shown this once',
        body: z
          .object({
            url: webhookFields.url,
            events: webhookFields.events.default(defaultWebhookEvents),
            description: webhookFields.description.default(''),
            enabled: webhookFields.enabled.default(true),
          })
          .meta({
            example: {
              url: 'https://ops.example.com/hooks/bulkchange',
              events: ['bulk_change.completed', 'bulk_change.failed'],
              description: 'operations center',
            },
          }),
        response: { 201: endpointWithSecretSchema },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      return reply
        .status(201)
        .send(await webhooks.create(principal.tenantId, request.body, actorOf(principal)));
    },
  );

  app.get(
    '/webhooks/:id',
    { onRequest: admin, schema: { tags, params: idParams, response: { 200: endpointViewSchema } } },
    async (request) => webhooks.get(principalOf(request).tenantId, request.params.id),
  );

  app.patch(
    '/webhooks/:id',
    {
      onRequest: admin,
      schema: {
        tags,
        params: idParams,
        body: z.object(webhookFields).partial(),
        response: { 200: endpointViewSchema },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return webhooks.update(principal.tenantId, request.params.id, request.body, actorOf(principal));
    },
  );

  app.delete(
    '/webhooks/:id',
    { onRequest: admin, schema: { tags, params: idParams, response: { 204: noContent } } },
    async (request, reply) => {
      const principal = principalOf(request);
      await webhooks.delete(principal.tenantId, request.params.id, actorOf(principal));
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/webhooks/:id/rotate-secret',
    {
      onRequest: admin,
      schema: {
        tags,
        params: idParams,
        summary: 'A new signing secret, shown this once',
        response: { 200: endpointWithSecretSchema },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return webhooks.rotateSecret(principal.tenantId, request.params.id, actorOf(principal));
    },
  );

  app.post(
    '/webhooks/:id/test',
    {
      onRequest: admin,
      schema: {
        tags,
        params: idParams,
        summary: 'Deliver a webhook.test event',
        response: { 202: deliveryViewSchema },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      return reply
        .status(202)
        .send(await webhooks.sendTest(principal.tenantId, request.params.id, actorOf(principal)));
    },
  );

  app.get(
    '/webhooks/:id/deliveries',
    {
      onRequest: admin,
      schema: {
        tags,
        params: idParams,
        summary:
          "The endpoint's deliveries, newest first, each with its attempts (status code, duration, error)",
        querystring: z.object({
          cursor: z.string().max(100).optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
        }),
        response: { 200: pageOf(deliveryViewSchema) },
      },
    },
    async (request) => webhooks.deliveries(principalOf(request).tenantId, request.params.id, request.query),
  );

  app.post(
    '/webhooks/:id/deliveries/:deliveryId/redeliver',
    {
      onRequest: admin,
      schema: {
        tags,
        params: z.object({ id: z.string().min(1).max(100), deliveryId: z.string().min(1).max(100) }),
        summary: 'Send a delivery again (signed anew, with a fresh retry window)',
        response: { 202: deliveryViewSchema },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      return reply
        .status(202)
        .send(
          await webhooks.redeliver(
            principal.tenantId,
            request.params.id,
            request.params.deliveryId,
            actorOf(principal),
          ),
        );
    },
  );

  app.get(
    '/notification-settings',
    { onRequest: admin, schema: { tags: ['notifications'], response: { 200: notificationSettingsSchema } } },
    async (request) => settings.get(principalOf(request).tenantId),
  );

  app.put(
    '/notification-settings',
    {
      onRequest: admin,
      schema: {
        tags: ['notifications'],
        summary: "The addresses told by e-mail when any of the tenant's bulk changes ends",
        body: z.object({ emails: z.array(z.email()).max(50) }),
        response: { 200: notificationSettingsSchema },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return settings.setEmails(principal.tenantId, request.body.emails, actorOf(principal));
    },
  );

  app.get(
    '/events',
    {
      onRequest: viewer,
      schema: {
        tags: ['notifications'],
        summary:
          "The tenant's events as Server-Sent Events (the same as webhooks deliver); resumes at Last-Event-ID",
        headers: z
          .object({
            'last-event-id': z
              .string()
              .regex(/^\d{1,15}$/)
              .optional(),
          })
          .loose(),
        response: {
          200: fileAnswer('Server-Sent Events: `id`, `event` (its type) and `data` (JSON) each', [
            EVENT_STREAM_CONTENT_TYPE,
          ]),
        },
      },
    },
    async (request, reply) => {
      const lastEventId = request.headers['last-event-id'];
      return feed.stream(
        reply,
        principalOf(request).tenantId,
        typeof lastEventId === 'string' ? Number(lastEventId) : undefined,
      );
    },
  );
};
