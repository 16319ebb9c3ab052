import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type KeyAuth, principalOf, requireRole } from '../accounts/auth.ts';
import { actorOf } from '../audit/actor.ts';
import { noContent, pageOf } from '../shared/answers.ts';
import { type Sites, siteViewSchema } from './sites.ts';

const text = (max: number) => z.string().trim().min(1).max(max);
const optionalText = (max: number) => text(max).nullable();

/**
 * A site's fields. The lengths are ThingSpace's place-of-use limits, so any site can be sent as one;
 * a contact name is what the place of use's `customerName` needs.
 */
export const siteFields = {
  name: text(100),
  contactFirstName: optionalText(50),
  contactLastName: optionalText(50),
  addressLine1: text(60),
  addressLine2: optionalText(60),
  city: text(40),
  state: text(20),
  zipCode: z
    .string()
    .trim()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9 -]{1,9}$/,
      'zipCode is a postal code (up to 10 letters, digits, spaces, -)',
    ),
  country: text(40),
  isDefault: z.boolean(),
};
export const newSiteSchema = z.object({
  ...siteFields,
  contactFirstName: siteFields.contactFirstName.default(null),
  contactLastName: siteFields.contactLastName.default(null),
  addressLine2: siteFields.addressLine2.default(null),
  country: siteFields.country.default('USA'),
  isDefault: siteFields.isDefault.default(false),
});

const idParams = z.object({ id: z.string().min(1).max(100) });

/** The tenant's sites (ADR 0051): read by viewers, kept by operators. */
export const siteRoutes: FastifyPluginAsyncZod<{ auth: KeyAuth; sites: Sites }> = async (
  app,
  { auth, sites },
) => {
  const viewer = requireRole(auth, 'viewer');
  const operator = requireRole(auth, 'operator');
  const tags = ['sites'];

  app.get(
    '/sites',
    { onRequest: viewer, schema: { tags, response: { 200: pageOf(siteViewSchema) } } },
    async (request) => ({ items: await sites.list(principalOf(request).tenantId), nextCursor: null }),
  );

  app.post(
    '/sites',
    {
      onRequest: operator,
      schema: {
        tags,
        summary: 'Add a site; isDefault makes it the one activated lines without a site are put at',
        body: newSiteSchema.meta({
          example: {
            name: 'Wenatchee depot',
            contactFirstName: 'Ana',
            contactLastName: 'Ruiz',
            addressLine1: '1 Main St',
            city: 'Wenatchee',
            state: 'WA',
            zipCode: '98801',
            isDefault: true,
          },
        }),
        response: { 201: siteViewSchema },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      return reply.status(201).send(await sites.create(principal.tenantId, request.body, actorOf(principal)));
    },
  );

  app.get(
    '/sites/:id',
    { onRequest: viewer, schema: { tags, params: idParams, response: { 200: siteViewSchema } } },
    async (request) => sites.get(principalOf(request).tenantId, request.params.id),
  );

  app.patch(
    '/sites/:id',
    {
      onRequest: operator,
      schema: {
        tags,
        params: idParams,
        body: z.object(siteFields).partial(),
        response: { 200: siteViewSchema },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return sites.update(principal.tenantId, request.params.id, request.body, actorOf(principal));
    },
  );

  app.delete(
    '/sites/:id',
    {
      onRequest: operator,
      schema: {
        tags,
        params: idParams,
        summary: 'Delete a site no line is at (SITE_IN_USE otherwise)',
        response: { 204: noContent },
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      await sites.delete(principal.tenantId, request.params.id, actorOf(principal));
      return reply.status(204).send(null);
    },
  );
};
