import { timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { CarrierAccounts } from '../../accounts/carrier-accounts.ts';
import { auditEntryForEvent } from '../../audit/audit-entry.ts';
import { auditRepository } from '../../audit/audit-repository.ts';
import { bulkChangesRepository } from '../../bulk-changes/bulk-changes-repository.ts';
import { type Db, type Dialect, inTransaction } from '../../db/database.ts';
import { advanceJob, type Enqueue } from '../../engine/jobs.ts';
import { AppError } from '../../shared/errors.ts';
import { redactBody } from '../redaction.ts';
import { lineFromIds, thingSpaceCredentialsSchema, thingSpaceSettingsSchema } from './client.ts';

/** A CarrierService callback (carrier-apis §1.8): one device's result of an asynchronous request. */
const callbackSchema = z
  .object({
    requestId: z.string().min(1),
    deviceIds: z.array(z.object({ id: z.string(), kind: z.string() }).loose()).min(1),
    status: z.string(),
    deviceResponse: z.record(z.string(), z.unknown()).optional(),
    faultResponse: z.record(z.string(), z.unknown()).optional(),
    username: z.string().optional(),
    password: z.string().optional(),
  })
  .loose();

const sameSecret = (given: string | undefined, expected: string) =>
  given !== undefined &&
  given.length === expected.length &&
  timingSafeEqual(Buffer.from(given), Buffer.from(expected));

/** The registered username and password, from HTTP Basic or (as ThingSpace also sends them) the body. */
function presented(header: string | undefined, body: { username?: string; password?: string }) {
  const basic = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!basic) return { username: body.username, password: body.password };
  const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * `POST /callbacks/thingspace/{carrierAccountId}`: keeps each result and wakes the row waiting for it,
 * which the engine then completes at once instead of at its next poll (a row busy at that moment finds
 * the result when it next looks). Answers 200 to every authenticated callback so ThingSpace does not
 * retry it; a repeated callback changes nothing.
 */
export const thingSpaceCallbackRoutes: FastifyPluginAsyncZod<{
  db: Db;
  dialect: Dialect;
  accounts: CarrierAccounts;
  enqueue: Enqueue;
}> = async (app, { db, dialect, accounts, enqueue }) => {
  app.post(
    '/thingspace/:carrierAccountId',
    {
      schema: {
        tags: ['carrier callbacks'],
        summary:
          'ThingSpace CarrierService callback (authenticated with the credentials registered for the account)',
        params: z.object({ carrierAccountId: z.string().min(1) }),
        body: callbackSchema,
      },
    },
    async (request) => {
      const loaded = await accounts.load(request.params.carrierAccountId);
      const credentials = thingSpaceCredentialsSchema.safeParse(loaded?.account.credentials);
      const settings = thingSpaceSettingsSchema.safeParse(loaded?.account.settings);
      const expectedPassword = credentials.data?.callbackPassword;
      const expectedUsername = settings.data?.callbackUsername;
      const given = presented(request.headers.authorization, request.body);
      if (
        loaded?.account.carrier !== 'thingspace' ||
        !expectedPassword ||
        !expectedUsername ||
        !sameSecret(given.username, expectedUsername) ||
        !sameSecret(given.password, expectedPassword)
      ) {
        throw new AppError(401, 'UNAUTHENTICATED', 'Unknown account or wrong callback credentials');
      }
      const { account } = loaded;
      const { username: _username, password: _password, ...result } = request.body;
      const iccid = lineFromIds(request.body.deviceIds).iccid;
      const now = Date.now();
      const woken = await inTransaction(db, async (tx) => {
        const saved = iccid
          ? await bulkChangesRepository(tx, dialect).saveCarrierResult({
              carrierAccountId: account.id,
              requestId: request.body.requestId,
              iccid,
              payload: result,
              now,
            })
          : { duplicate: false, bulkChangeIds: [] };
        const matched = saved.bulkChangeIds;
        await auditRepository(tx).append([
          auditEntryForEvent(
            {
              tenantId: account.tenantId,
              bulkChangeId: matched[0] ?? null,
              deviceChangeId: null,
              carrierAccountId: account.id,
              actor: 'thingspace',
            },
            {
              action: 'callback',
              outcome: !iccid
                ? 'unmatched'
                : saved.duplicate
                  ? 'duplicate'
                  : matched.length
                    ? 'success'
                    : 'stored',
              detail: redactBody(request.body),
            },
            now,
          ),
        ]);
        for (const bulkChangeId of matched) await enqueue(tx, advanceJob(bulkChangeId));
        return saved;
      });
      return { received: true, duplicate: woken.duplicate };
    },
  );
};
