import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { CarrierRegistry } from '../carriers/registry.ts';
import { bodyDeadline } from '../shared/body-deadline.ts';
import { assetRoutes } from './assets.ts';
import { requireCsrf, resolveUser, signInRequired, userOf } from './auth.ts';
import { ChangeCatalog } from './change-catalog.ts';
import type { PortalDeps, PortalServices } from './deps.ts';
import { installPortalErrorHandler } from './errors.ts';
import { activationWorkbookRoutes } from './pages/activation-workbook.ts';
import { apiKeysRoutes } from './pages/api-keys.ts';
import { bulkChangeDetailRoutes } from './pages/bulk-change-detail.ts';
import { bulkChangePreviewRoutes } from './pages/bulk-change-preview.ts';
import { bulkChangesListRoutes } from './pages/bulk-changes-list.ts';
import { carrierAccountsRoutes } from './pages/carrier-accounts.ts';
import { deviceDetailRoutes } from './pages/device-detail.ts';
import { devicesRoutes } from './pages/devices.ts';
import { guardrailsRoutes } from './pages/guardrails.ts';
import { newBulkChangeRoutes } from './pages/new-bulk-change.ts';
import { newCarrierAccountRoutes } from './pages/new-carrier-account.ts';
import { overviewRoutes } from './pages/overview.ts';
import { reconciliationsRoutes } from './pages/reconciliations.ts';
import { rowTimelineRoutes } from './pages/row-timeline.ts';
import { signInRoutes } from './pages/sign-in.ts';
import { sitesRoutes } from './pages/sites.ts';
import { usersRoutes } from './pages/users.ts';
import { webhooksRoutes } from './pages/webhooks.ts';
import { PreviewStash } from './preview-stash.ts';
import { type SessionLimits, SessionStore } from './session.ts';

export interface PortalOptions extends PortalServices {
  registry: CarrierRegistry;
  maxUploadBytes: number;
  sessionLimits: SessionLimits;
  publicUrl: string | undefined;
  /** A form's body must arrive within this of its headers. */
  bodyTimeoutMs: number;
}

/** Forms are small; uploads go through multipart, which has its own limit. */
const FORM_BODY_LIMIT = 1024 * 1024;

/** No inline script or style anywhere in the portal, so the policy can forbid them. */
const contentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

async function securityHeaders(_request: FastifyRequest, reply: FastifyReply, payload: unknown) {
  reply.header('x-content-type-options', 'nosniff');
  reply.header('referrer-policy', 'same-origin');
  if (String(reply.getHeader('content-type') ?? '').startsWith('text/html')) {
    reply.header('content-security-policy', contentSecurityPolicy);
    // Pages carry the session's CSRF token and live data: never cached.
    reply.header('cache-control', 'no-store');
  }
  return payload;
}

/**
 * The operator portal (ADR 0007): server-rendered pages over the API's service layer, signed in with
 * an API key or a user's e-mail and password (ADR 0053), exchanged for a session cookie. Mounted under
 * `/portal`.
 */
export const portalPlugin: FastifyPluginAsyncZod<PortalOptions> = async (app, options) => {
  const previews = new PreviewStash();
  const deps: PortalDeps = {
    apiKeys: options.apiKeys,
    users: options.users,
    throttle: options.throttle,
    publicUrl: options.publicUrl,
    sessionLimits: options.sessionLimits,
    accounts: options.accounts,
    catalogs: options.catalogs,
    bulkChanges: options.bulkChanges,
    approvalPolicies: options.approvalPolicies,
    activationTemplates: options.activationTemplates,
    devices: options.devices,
    sites: options.sites,
    webhooks: options.webhooks,
    notificationSettings: options.notificationSettings,
    health: options.health,
    reconciliations: options.reconciliations,
    requestInventorySync: options.requestInventorySync,
    catalog: new ChangeCatalog(options.registry),
    maxUploadBytes: options.maxUploadBytes,
    previews,
    sessions: new SessionStore(options.sessionLimits, (sessionId) => previews.drop(sessionId)),
  };

  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT },
    (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );
  // Forms are small: one dribbled a byte at a time must not hold a connection (uploads are multipart).
  const formDeadline = bodyDeadline(options.bodyTimeoutMs);
  const isForm = (request: FastifyRequest) =>
    request.method === 'POST' &&
    String(request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
  app.addHook('onRequest', async (request, reply) => {
    if (isForm(request)) await formDeadline.onRequest(request, reply);
  });
  app.addHook('preValidation', formDeadline.preValidation);
  app.addHook('onRequest', async (request) => {
    request.portalUser = await resolveUser(request, deps);
    if (!request.portalUser && !request.routeOptions.config.portalPublic) throw signInRequired();
  });
  // SameSite=Strict keeps the cookie off cross-site requests; the token covers what it does not.
  app.addHook('preHandler', async (request) => {
    const { config } = request.routeOptions;
    if (request.method !== 'POST' || config.portalPublic || config.csrfInBody) return;
    const body = request.body as Record<string, unknown> | undefined;
    requireCsrf(userOf(request), body?._csrf ?? request.headers['x-csrf-token']);
  });
  app.addHook('onSend', securityHeaders);
  installPortalErrorHandler(app);

  assetRoutes(app);
  signInRoutes(app, deps);
  overviewRoutes(app, deps);
  bulkChangesListRoutes(app, deps);
  newBulkChangeRoutes(app, deps);
  activationWorkbookRoutes(app, deps);
  bulkChangePreviewRoutes(app, deps);
  bulkChangeDetailRoutes(app, deps);
  rowTimelineRoutes(app, deps);
  devicesRoutes(app, deps);
  deviceDetailRoutes(app, deps);
  reconciliationsRoutes(app, deps);
  sitesRoutes(app, deps);
  newCarrierAccountRoutes(app, deps);
  carrierAccountsRoutes(app, deps);
  webhooksRoutes(app, deps);
  guardrailsRoutes(app, deps);
  usersRoutes(app, deps);
  apiKeysRoutes(app, deps);
};
