import fc from 'fast-check';
import { changeTypes } from '../../src/core/change-types.ts';
import { bulkStatuses, rowStatuses } from '../../src/core/statuses.ts';
import {
  anyContentType,
  type Body,
  csvBody,
  csvText,
  formBody,
  jsonBody,
  multipartBody,
  strayBody,
} from './bodies.ts';
import { headerText, mutatedObject, pathSegment, queryString, weirdJson, weirdText } from './inputs.ts';
import type { FuzzContext } from './target.ts';

/** One generated request. `raw` requests are sent as bytes on a socket (malformed HTTP). */
export interface FuzzRequest {
  /** The route as the app declares it (`GET /api/v1/bulk-changes/:id`), for counting. */
  route: string;
  method: string;
  target: string;
  headers: Record<string, string>;
  body?: Body;
  raw?: Buffer;
  /** A Server-Sent Events route: only the answer's head is read. */
  stream?: boolean;
}

type Auth = 'key' | 'session' | 'callback' | 'none';

interface RouteSpec {
  method: string;
  path: string;
  auth: Auth;
  /** Each `:param` of the path: valid values (odd ones are mixed in). */
  params?: Record<string, string[]>;
  /** The whole path, when its params go together (a callback's carrier and account). */
  pathValues?: fc.Arbitrary<string>;
  /** Whole query strings that go together (mixed with `query`'s). */
  queryValues?: fc.Arbitrary<string>;
  query?: Record<string, fc.Arbitrary<string>>;
  body?: fc.Arbitrary<Body | undefined>;
  stream?: boolean;
  /** The portal session a `session` route uses: `spare` for those that may end it. */
  session?: 'main' | 'spare';
  /** How often this route is drawn, relative to 1. */
  weight?: number;
}

const limitValue = fc.oneof(
  fc.nat({ max: 2_000 }).map(String),
  fc.constantFrom('0', '-1', '1.5', 'abc', '1e3'),
);
const cursorValue = fc.oneof(
  fc.nat().map(String),
  fc.constantFrom('99999999999999999999999', '9223372036854775808', '-1', '1e5'),
  weirdText,
);

/** Every route of the app, with what a caller could send it. */
export function routeSpecs(context: FuzzContext): RouteSpec[] {
  const ids = {
    account: [context.jasperAccountId, context.thingSpaceAccountId, context.foreignAccountId],
    bulkChange: [context.bulkChangeId],
    change: [context.changeId],
    device: [context.deviceId],
    key: context.disposableKeyIds,
    webhook: [context.webhookId],
    delivery: [context.deliveryId],
    site: [context.siteId, 'no-such-site'],
    user: [context.userId],
    auditEntry: [context.auditEntryId, '0', '999999999999999'],
    // No run is made for the fuzz: every probe of a run is a 404, which still exercises the routes' checks.
    reconciliation: ['0197a000-0000-7000-8000-000000000000', 'not-a-run'],
  };
  const webhookBody = mutatedObject(
    {
      url: fc.oneof(
        { weight: 2, arbitrary: fc.constant(`${context.simulatorUrl}/hook`) },
        {
          weight: 3,
          arbitrary: fc.constantFrom(
            'http://169.254.169.254/latest',
            'http://10.0.0.1/hook',
            'ftp://x',
            'http://u:p@example.com',
            'https://hooks.example.com/a?token=x',
            'not a url',
          ),
        },
      ),
      events: fc.array(
        fc.constantFrom('bulk_change.completed', 'bulk_change.row_failed', 'webhook.test', 'x'),
        { maxLength: 4 },
      ),
      description: weirdText,
      enabled: fc.boolean(),
    },
    ['url'],
  );
  const siteBody = mutatedObject(
    {
      name: fc.oneof(fc.constantFrom('Depot', 'Fuzz depot'), weirdText),
      contactFirstName: fc.constantFrom('Ford', null, ''),
      addressLine1: fc.oneof(fc.constant('1 Main St'), weirdText),
      city: fc.constantFrom('Wenatchee', ''),
      state: fc.constantFrom('WA', 'x'.repeat(30)),
      zipCode: fc.constantFrom('98801', '!', '12345-6789', ''),
      isDefault: fc.boolean(),
    },
    ['name', 'addressLine1', 'city', 'state', 'zipCode'],
  );
  const roleValue = fc.constantFrom('viewer', 'operator', 'approver', 'admin', 'root', '');
  const modulesValue = fc.oneof(
    fc.constant(null),
    fc.array(fc.constantFrom('m2m', 'mobility', 'lnp'), { maxLength: 3 }),
  );
  const newKey = mutatedObject({ name: weirdText, role: roleValue }, ['name', 'role']);
  const newUser = mutatedObject(
    {
      email: fc.constantFrom('someone@acme.test', 'fuzz@acme.test', 'FUZZ@ACME.TEST', 'not-an-address'),
      name: weirdText,
      role: roleValue,
      password: fc.constantFrom('a long enough password', 'short', ''),
      modules: modulesValue,
    },
    ['email', 'name', 'role', 'password'],
  );
  const userPatch = mutatedObject(
    { name: weirdText, role: roleValue, modules: modulesValue, disabled: fc.boolean() },
    [],
  );
  const emails = mutatedObject(
    { emails: fc.array(fc.constantFrom('noc@acme.test', 'not-an-address', ''), { maxLength: 3 }) },
    ['emails'],
  );
  const approvalPolicy = mutatedObject(
    {
      approvalAboveLines: fc.constantFrom(null, 0, 100, -1, 1.5),
      destructiveLinesPerHour: fc.constantFrom(null, 1, 2000, 0),
    },
    ['approvalAboveLines', 'destructiveLinesPerHour'],
  );
  const note = mutatedObject({ note: fc.oneof(fc.constantFrom('checked', ''), weirdText) }, []);
  const iccid = fc.constantFrom(...context.iccids);
  const rowValues: Record<string, fc.Arbitrary<string>> = {
    iccid,
    targetStatus: fc.constantFrom('active', 'test_ready', 'deactivated', 'suspended', 'retired'),
    carrierRatePlan: fc.constantFrom('IoT Basic 1MB', 'IoT Pro 1GB'),
    communicationPlan: fc.constantFrom('CP_Basic_ON'),
    username: weirdText,
    costCenter1: weirdText,
    effectiveDate: fc.constantFrom('2026-12-24', 'tomorrow', '2030-01-01T00:00:00Z'),
  };
  const row = mutatedObject(rowValues, ['iccid']);
  const bulkJson = mutatedObject(
    {
      carrierAccountId: fc.constantFrom(...ids.account),
      changeType: fc.constantFrom(...changeTypes),
      changes: fc.array(row, { maxLength: 5 }),
      options: mutatedObject({
        targetStatus: rowValues.targetStatus,
        carrierRatePlan: rowValues.carrierRatePlan,
      }),
      scheduledFor: fc.constantFrom(
        '2030-01-01T00:00:00Z',
        '%00',
        '12',
        new Date(Date.now() + 60_000).toISOString(),
      ),
      dryRun: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.boolean() }),
      acceptValidRows: fc.boolean(),
    },
    ['carrierAccountId', 'changeType', 'changes'],
  );
  // Well-formed changes, so that the paths behind validation are fuzzed too (dry runs mostly).
  const goodRows = fc
    .subarray(context.iccids, { minLength: 1, maxLength: 4 })
    .map((lines) => lines.map((line) => ({ iccid: line })));
  const goodOptions = fc.oneof(
    fc.record({ targetStatus: fc.constantFrom('active', 'test_ready') }),
    fc.record({ carrierRatePlan: fc.constantFrom('IoT Basic 1MB', 'IoT Pro 1GB') }),
  );
  const goodBulkJson = fc
    .record({
      carrierAccountId: fc.constant(context.jasperAccountId),
      changeType: fc.constantFrom('status_update', 'carrier_rate_plan_change'),
      changes: goodRows,
      options: goodOptions,
      dryRun: fc.oneof(
        { weight: 4, arbitrary: fc.constant(true) },
        { weight: 1, arbitrary: fc.constant(false) },
      ),
      acceptValidRows: fc.boolean(),
    })
    .map((change) =>
      // A rate plan change without the plan fails its checks; give the status change its target.
      change.changeType === 'status_update' && !('targetStatus' in change.options)
        ? { ...change, options: { targetStatus: 'test_ready' } }
        : change,
    );
  const goodBulkQuery = fc
    .tuple(fc.constantFrom('true', 'true', 'true', 'false'), fc.constantFrom('active', 'test_ready'))
    .map(
      ([dryRun, targetStatus]) =>
        `?carrierAccountId=${context.jasperAccountId}&changeType=status_update&targetStatus=${targetStatus}&dryRun=${dryRun}`,
    );
  const goodCsv = fc
    .subarray(context.iccids, { minLength: 1, maxLength: 4 })
    .map((lines) => `iccid\n${lines.join('\n')}\n`);
  const bulkQuery = {
    carrierAccountId: fc.constantFrom(...ids.account),
    changeType: fc.constantFrom(...changeTypes),
    targetStatus: rowValues.targetStatus,
    dryRun: fc.constantFrom('true', 'true', 'false', '1', 'yes'),
    acceptValidRows: fc.constantFrom('true', 'false'),
    scheduledFor: fc.constantFrom('2030-01-01T00:00:00Z', '%00'),
  };
  const csv = csvText(['iccid', 'target_status', 'rate_plan', 'username', 'effective_date', 'unknown'], {
    iccid: rowValues.iccid,
    target_status: rowValues.targetStatus,
    rate_plan: rowValues.carrierRatePlan,
    username: weirdText,
    effective_date: rowValues.effectiveDate,
  });
  const goodMultipartFields = fc.constantFrom(
    [
      { name: 'carrierAccountId', value: context.jasperAccountId },
      { name: 'changeType', value: 'status_update' },
      { name: 'targetStatus', value: 'test_ready' },
      { name: 'dryRun', value: 'true' },
    ],
    [
      { name: '_csrf', value: context.portal.csrf },
      { name: 'carrierAccountId', value: context.jasperAccountId },
      { name: 'changeType', value: 'status_update' },
      { name: 'targetStatus', value: 'test_ready' },
    ],
  );
  const someMultipartFields = fc.subarray(
    [
      { name: 'carrierAccountId', value: context.jasperAccountId },
      { name: 'changeType', value: 'status_update' },
      { name: 'targetStatus', value: 'active' },
      { name: 'dryRun', value: 'true' },
      { name: 'carrierAccountId', value: 'a\u0000b' },
      { name: 'unknownField', value: 'x' },
      { name: '_csrf', value: context.portal.csrf },
      { name: 'when', value: 'later' },
      { name: 'scheduledFor', value: '2030-01-01T10:00' },
      { name: 'identifiers', value: context.iccids.slice(0, 2).join('\n') },
    ],
    { minLength: 0 },
  );
  const multipartFields = fc.oneof(
    goodMultipartFields.map((fields) => [...fields]),
    someMultipartFields,
  );
  const account = mutatedObject(
    {
      name: weirdText,
      carrier: fc.constantFrom('jasper', 'jasper', 'thingspace', 'telegence', 'pond', 'teal', 'other'),
      baseUrl: fc.oneof(
        { weight: 3, arbitrary: fc.constant(context.simulatorUrl) },
        {
          weight: 2,
          arbitrary: fc.constantFrom(
            'https://api.example.com',
            'http://169.254.169.254',
            'http://2130706433',
            'http://[::ffff:10.0.0.1]',
            'ftp://x',
            'http://u:p@example.com',
            'not a url',
          ),
        },
      ),
      credentials: mutatedObject({ username: weirdText, apiKey: weirdText }, ['username', 'apiKey']),
      writeEnabled: fc.boolean(),
      settings: mutatedObject({
        apiPath: fc.constantFrom('/rws/api/v1', '//127.0.0.1', '/../x', '/a?b'),
        limits: mutatedObject({
          requestsPerSecond: fc.constantFrom(1, 5, 1e-300, 0, null),
          maxConcurrent: fc.constantFrom(1, 4, 0, 1_000),
          checkIntervalMs: fc.constantFrom(100, 1e300),
        }),
      }),
    },
    ['name', 'carrier', 'baseUrl', 'credentials'],
  );
  const catalogItem = {
    id: weirdText,
    name: weirdText,
    status: fc.constantFrom('active', 'closed', 'odd'),
    dataMb: fc.integer(),
    monthlyRate: fc.double(),
  };
  const goodCatalogItem = fc.record(
    {
      id: fc.stringMatching(/^[A-Z]{2,5}-\d{1,4}$/),
      name: fc.constantFrom('Fleet 1 GB', 'Pool A', 'Ünïcode plan'),
      status: fc.constantFrom('active', 'closed'),
      dataMb: fc.nat({ max: 100_000 }),
    },
    { requiredKeys: ['id', 'name'] },
  );
  const catalog = fc.oneof(
    { weight: 2, arbitrary: fc.record({ items: fc.array(goodCatalogItem, { minLength: 1, maxLength: 4 }) }) },
    {
      weight: 2,
      arbitrary: mutatedObject({
        items: fc.array(mutatedObject(catalogItem, ['id', 'name']), { maxLength: 4 }),
      }),
    },
  );
  const billingConnection = fc.oneof(
    {
      weight: 2,
      arbitrary: fc.record({
        system: fc.constant('revio'),
        baseUrl: fc.constant(context.revioUrl),
        credentials: fc.record({
          username: fc.constant('demo@bulkchange'),
          password: fc.constantFrom('demo-rev-password', 'wrong'),
          subscriptionKey: fc.constantFrom('demo-subscription-key', 'wrong-key'),
        }),
        settings: fc.record({ providerIds: fc.record({ jasper: fc.constant(3) }) }),
      }),
    },
    {
      weight: 3,
      arbitrary: mutatedObject(
        {
          system: fc.constantFrom('revio', 'other'),
          baseUrl: fc.constantFrom('https://revio.example.com', 'http://10.0.0.1', context.revioUrl),
          credentials: mutatedObject({
            username: fc.constantFrom('demo@bulkchange', 'no-at'),
            password: weirdText,
            subscriptionKey: weirdText,
          }),
          writeEnabled: fc.boolean(),
          settings: mutatedObject({ providerIds: fc.dictionary(weirdText, fc.integer()) }),
        },
        ['system', 'baseUrl', 'credentials'],
      ),
    },
  );
  const callback = mutatedObject(
    {
      requestId: weirdText,
      deviceIds: fc.array(
        mutatedObject({ id: iccid, kind: fc.constantFrom('iccid', 'imei', 'x') }, ['id', 'kind']),
        {
          minLength: 1,
          maxLength: 3,
        },
      ),
      status: fc.constantFrom('Success', 'Failed', 'x'),
      deviceResponse: weirdJson,
      username: fc.constantFrom(context.callback.username, 'wrong', 'ü'),
      password: fc.constantFrom(context.callback.password, 'wrong', 'ü'.repeat(50)),
    },
    ['requestId', 'deviceIds', 'status'],
  );
  const csrf = fc.constantFrom(context.portal.csrf, context.portal.csrf, '', 'x'.repeat(43));
  const portalForm = (fields: Record<string, fc.Arbitrary<string>>) => formBody({ _csrf: csrf, ...fields });
  const carriers = ['thingspace', 'jasper', 'telegence', 'pond', 'teal'];

  return [
    { method: 'GET', path: '/', auth: 'none' },
    { method: 'GET', path: '/healthz', auth: 'none' },
    { method: 'GET', path: '/readyz', auth: 'none' },
    { method: 'GET', path: '/metrics', auth: 'none' },
    { method: 'GET', path: '/api/openapi.json', auth: 'none' },
    { method: 'GET', path: '/api/docs', auth: 'none' },
    {
      method: 'GET',
      path: '/api/docs/:file',
      auth: 'none',
      params: { file: ['static/index.html', 'json', 'yaml', 'x'] },
    },
    { method: 'GET', path: '/api/v1/carrier-accounts', auth: 'key' },
    { method: 'POST', path: '/api/v1/carrier-accounts', auth: 'key', body: jsonBody(account), weight: 3 },
    { method: 'GET', path: '/api/v1/carrier-accounts/:id', auth: 'key', params: { id: ids.account } },
    {
      method: 'PATCH',
      path: '/api/v1/carrier-accounts/:id',
      auth: 'key',
      params: { id: ids.account },
      body: jsonBody(account),
      weight: 2,
    },
    {
      method: 'POST',
      path: '/api/v1/carrier-accounts/:id/inventory-sync',
      auth: 'key',
      params: { id: ids.account },
      body: strayBody,
    },
    {
      method: 'POST',
      path: '/api/v1/carrier-accounts/:id/reconciliations',
      auth: 'key',
      params: { id: ids.account },
      body: strayBody,
    },
    {
      method: 'GET',
      path: '/api/v1/carrier-accounts/:id/reconciliation-schedule',
      auth: 'key',
      params: { id: ids.account },
    },
    {
      method: 'PUT',
      path: '/api/v1/carrier-accounts/:id/reconciliation-schedule',
      auth: 'key',
      params: { id: ids.account },
      body: jsonBody(mutatedObject({ everyMinutes: fc.constantFrom(5, 60, 1, null, -1, 1e9) })),
    },
    {
      method: 'GET',
      path: '/api/v1/reconciliations',
      auth: 'key',
      query: { carrierAccountId: fc.constantFrom(...ids.account), cursor: cursorValue, limit: limitValue },
    },
    ...['', '/drifts', '/drifts.csv'].map(
      (tail): RouteSpec => ({
        method: 'GET',
        path: `/api/v1/reconciliations/:id${tail}`,
        auth: 'key',
        params: { id: ids.reconciliation },
        query: { kind: weirdText, cursor: cursorValue, limit: limitValue },
      }),
    ),
    {
      method: 'POST',
      path: '/api/v1/reconciliations/:id/propose-fix',
      auth: 'key',
      params: { id: ids.reconciliation },
      body: jsonBody(
        mutatedObject({
          driftIds: fc.array(fc.oneof(cursorValue, fc.nat()), { maxLength: 3 }),
          dryRun: fc.constantFrom(true, false),
        }),
      ),
    },
    {
      method: 'GET',
      path: '/api/v1/carrier-accounts/:id/rate-plans',
      auth: 'key',
      params: { id: ids.account },
    },
    ...['customer-rate-plans', 'customer-pools', 'billing-customers'].flatMap((name): RouteSpec[] => [
      { method: 'GET', path: `/api/v1/${name}`, auth: 'key' },
      { method: 'POST', path: `/api/v1/${name}`, auth: 'key', body: jsonBody(catalog) },
    ]),
    { method: 'POST', path: '/api/v1/billing-customers/sync', auth: 'key', body: strayBody },
    { method: 'GET', path: '/api/v1/billing-connection', auth: 'key' },
    { method: 'PUT', path: '/api/v1/billing-connection', auth: 'key', body: jsonBody(billingConnection) },
    {
      method: 'GET',
      path: '/api/v1/devices',
      auth: 'key',
      query: {
        carrierAccountId: fc.constantFrom(...ids.account),
        iccid,
        msisdn: weirdText,
        status: weirdText,
        cursor: cursorValue,
        limit: limitValue,
      },
    },
    {
      method: 'GET',
      path: '/api/v1/devices/export',
      auth: 'key',
      query: {
        changeType: fc.constantFrom('status_update', 'carrier_rate_plan_change', 'archival', 'nope', ''),
        format: fc.constantFrom('csv', 'xlsx', 'pdf'),
        carrierAccountId: fc.constantFrom(...ids.account, 'x'),
        status: weirdText,
        iccid,
      },
    },
    {
      method: 'GET',
      path: '/api/v1/devices/:id/history',
      auth: 'key',
      params: { id: [...ids.device, 'not-a-line', ...context.iccids.slice(0, 1)] },
      query: { cursor: cursorValue, limit: limitValue },
    },
    {
      method: 'POST',
      path: '/api/v1/bulk-changes',
      auth: 'key',
      query: bulkQuery,
      queryValues: goodBulkQuery,
      body: fc.oneof(
        { weight: 3, arbitrary: jsonBody(goodBulkJson) },
        { weight: 2, arbitrary: csvBody(goodCsv) },
        { weight: 4, arbitrary: jsonBody(bulkJson) },
        { weight: 3, arbitrary: csvBody(csv) },
        { weight: 3, arbitrary: multipartBody(multipartFields, fc.oneof(goodCsv, csv)) },
        {
          weight: 1,
          arbitrary: fc
            .tuple(anyContentType, fc.uint8Array({ maxLength: 100 }))
            .map(([contentType, bytes]) => ({ contentType, bytes: Buffer.from(bytes) })),
        },
      ),
      weight: 12,
    },
    {
      method: 'GET',
      path: '/api/v1/bulk-changes',
      auth: 'key',
      query: {
        status: fc.constantFrom(...bulkStatuses),
        changeType: fc.constantFrom(...changeTypes),
        carrierAccountId: fc.constantFrom(...ids.account),
        cursor: cursorValue,
        limit: limitValue,
      },
    },
    { method: 'GET', path: '/api/v1/bulk-changes/:id', auth: 'key', params: { id: ids.bulkChange } },
    {
      method: 'GET',
      path: '/api/v1/bulk-changes/:id/changes',
      auth: 'key',
      params: { id: ids.bulkChange },
      query: { status: fc.constantFrom(...rowStatuses), cursor: cursorValue, limit: limitValue },
    },
    {
      method: 'GET',
      path: '/api/v1/bulk-changes/:id/log',
      auth: 'key',
      params: { id: ids.bulkChange },
      query: { changeId: fc.constantFrom(...ids.change), cursor: cursorValue, limit: limitValue },
    },
    {
      method: 'GET',
      path: '/api/v1/bulk-changes/:id/results.csv',
      auth: 'key',
      params: { id: ids.bulkChange },
    },
    {
      method: 'GET',
      path: '/api/v1/bulk-changes/:id/results.xlsx',
      auth: 'key',
      params: { id: ids.bulkChange },
    },
    {
      method: 'GET',
      path: '/api/v1/carrier-accounts/:id/activation-workbook.xlsx',
      auth: 'key',
      params: { id: ids.account },
    },
    {
      method: 'GET',
      path: '/api/v1/bulk-changes/:id/events',
      auth: 'key',
      params: { id: ids.bulkChange },
      stream: true,
    },
    {
      method: 'POST',
      path: '/api/v1/bulk-changes/:id/cancel',
      auth: 'key',
      params: { id: ids.bulkChange },
      body: strayBody,
    },
    {
      method: 'POST',
      path: '/api/v1/bulk-changes/:id/retry',
      auth: 'key',
      params: { id: ids.bulkChange },
      body: strayBody,
    },
    {
      method: 'POST',
      path: '/api/v1/bulk-changes/:id/undo',
      auth: 'key',
      params: { id: ids.bulkChange },
      query: { dryRun: fc.constantFrom('true', 'false', '1', 'maybe') },
      body: fc.oneof(
        strayBody,
        jsonBody(fc.record({ options: fc.dictionary(fc.string({ maxLength: 12 }), weirdJson) })),
      ),
    },
    {
      method: 'POST',
      path: '/api/v1/bulk-changes/:id/resume',
      auth: 'key',
      params: { id: ids.bulkChange },
      body: strayBody,
    },
    {
      method: 'POST',
      path: '/api/v1/bulk-changes/:id/pause',
      auth: 'key',
      params: { id: ids.bulkChange },
      body: strayBody,
    },
    ...(['approve', 'reject'] as const).map((control) => ({
      method: 'POST',
      path: `/api/v1/bulk-changes/:id/${control}`,
      auth: 'key' as const,
      params: { id: ids.bulkChange },
      body: jsonBody(note),
    })),
    {
      method: 'GET',
      path: '/api/v1/bulk-changes/:id/changes/:changeId',
      auth: 'key',
      params: { id: ids.bulkChange, changeId: ids.change },
      query: { limit: limitValue },
    },
    {
      method: 'GET',
      path: '/api/v1/audit',
      auth: 'key',
      query: {
        actor: fc.constantFrom('engine', 'cli', 'key:x', '%00'),
        action: fc.constantFrom('bulk_change.create', 'callback', 'x'),
        since: fc.constantFrom('2026-01-01T00:00:00Z', 'yesterday', '2026-13-40T99:00:00Z'),
        bulkChangeId: fc.constantFrom(...ids.bulkChange, 'x'),
        cursor: cursorValue,
        limit: limitValue,
      },
    },
    { method: 'GET', path: '/api/v1/audit/verify', auth: 'key' },
    { method: 'GET', path: '/api/v1/audit/:id', auth: 'key', params: { id: ids.auditEntry } },
    { method: 'GET', path: '/api/v1/sites', auth: 'key' },
    { method: 'POST', path: '/api/v1/sites', auth: 'key', body: jsonBody(siteBody) },
    { method: 'GET', path: '/api/v1/sites/:id', auth: 'key', params: { id: ids.site } },
    {
      method: 'PATCH',
      path: '/api/v1/sites/:id',
      auth: 'key',
      params: { id: ids.site },
      body: jsonBody(siteBody),
    },
    { method: 'DELETE', path: '/api/v1/sites/:id', auth: 'key', params: { id: ids.site } },
    { method: 'GET', path: '/api/v1/webhooks', auth: 'key' },
    { method: 'POST', path: '/api/v1/webhooks', auth: 'key', body: jsonBody(webhookBody), weight: 2 },
    { method: 'GET', path: '/api/v1/webhooks/:id', auth: 'key', params: { id: ids.webhook } },
    {
      method: 'PATCH',
      path: '/api/v1/webhooks/:id',
      auth: 'key',
      params: { id: ids.webhook },
      body: jsonBody(webhookBody),
    },
    { method: 'DELETE', path: '/api/v1/webhooks/:id', auth: 'key', params: { id: ids.webhook } },
    ...['rotate-secret', 'test'].map(
      (action): RouteSpec => ({
        method: 'POST',
        path: `/api/v1/webhooks/:id/${action}`,
        auth: 'key',
        params: { id: ids.webhook },
        body: strayBody,
      }),
    ),
    {
      method: 'GET',
      path: '/api/v1/webhooks/:id/deliveries',
      auth: 'key',
      params: { id: ids.webhook },
      query: { cursor: cursorValue, limit: limitValue },
    },
    {
      method: 'POST',
      path: '/api/v1/webhooks/:id/deliveries/:deliveryId/redeliver',
      auth: 'key',
      params: { id: ids.webhook, deliveryId: ids.delivery },
      body: strayBody,
    },
    { method: 'GET', path: '/api/v1/approval-policy', auth: 'key' },
    { method: 'PUT', path: '/api/v1/approval-policy', auth: 'key', body: jsonBody(approvalPolicy) },
    { method: 'GET', path: '/api/v1/notification-settings', auth: 'key' },
    { method: 'PUT', path: '/api/v1/notification-settings', auth: 'key', body: jsonBody(emails) },
    { method: 'GET', path: '/api/v1/events', auth: 'key', stream: true },
    { method: 'GET', path: '/api/v1/api-keys', auth: 'key' },
    { method: 'DELETE', path: '/api/v1/api-keys/:id', auth: 'key', params: { id: ids.key }, body: strayBody },
    { method: 'POST', path: '/api/v1/api-keys', auth: 'key', body: jsonBody(newKey) },
    { method: 'GET', path: '/api/v1/users', auth: 'key' },
    { method: 'GET', path: '/api/v1/users/:id', auth: 'key', params: { id: ids.user } },
    { method: 'POST', path: '/api/v1/users', auth: 'key', body: jsonBody(newUser) },
    {
      method: 'PATCH',
      path: '/api/v1/users/:id',
      auth: 'key',
      params: { id: ids.user },
      body: jsonBody(userPatch),
    },
    {
      method: 'POST',
      path: '/callbacks/:carrier/:carrierAccountId',
      auth: 'callback',
      params: { carrier: carriers, carrierAccountId: [context.thingSpaceAccountId, context.jasperAccountId] },
      pathValues: fc.oneof(
        { weight: 4, arbitrary: fc.constant(`/callbacks/thingspace/${context.thingSpaceAccountId}`) },
        {
          weight: 2,
          arbitrary: fc
            .tuple(pathSegment(carriers), pathSegment([context.thingSpaceAccountId, context.jasperAccountId]))
            .map(([carrier, account]) => `/callbacks/${carrier}/${account}`),
        },
      ),
      body: jsonBody(callback),
      weight: 6,
    },
    { method: 'GET', path: '/portal', auth: 'session' },
    {
      method: 'GET',
      path: '/portal/assets/:file',
      auth: 'none',
      params: { file: [...context.assetFiles, 'portal.css', 'x.js', '../config.ts'] },
    },
    {
      method: 'GET',
      path: '/portal/sign-in',
      auth: 'none',
      query: { next: fc.constantFrom('/portal/devices', '//evil.example', 'javascript:alert(1)') },
    },
    {
      method: 'POST',
      path: '/portal/sign-in',
      auth: 'none',
      body: formBody({
        apiKey: fc.constantFrom(context.keys.admin, context.keys.viewer, 'bck_wrong', ''),
        _csrf: fc.constantFrom(context.signIn.token, ''),
        next: fc.constantFrom('/portal/devices', '//evil.example'),
      }),
      weight: 3,
    },
    {
      method: 'POST',
      path: '/portal/sign-in/password',
      auth: 'none',
      body: formBody({
        email: fc.constantFrom('fuzz@acme.test', 'nobody@acme.test', '', 'x'.repeat(300)),
        password: fc.constantFrom('fuzz-password-1', 'wrong', ''),
        _csrf: fc.constantFrom(context.signIn.token, ''),
        next: fc.constantFrom('/portal/devices', '//evil.example'),
      }),
    },
    {
      method: 'POST',
      path: '/portal/sign-out',
      auth: 'session',
      session: 'spare',
      body: formBody({ _csrf: fc.constantFrom(context.spare.csrf, '', 'x') }),
    },
    {
      method: 'GET',
      path: '/portal/bulk-changes',
      auth: 'session',
      query: {
        status: fc.constantFrom(...bulkStatuses, ''),
        changeType: fc.constantFrom(...changeTypes, ''),
        cursor: cursorValue,
      },
    },
    {
      method: 'GET',
      path: '/portal/bulk-changes/events',
      auth: 'session',
      query: { ids: fc.constantFrom(context.bulkChangeId, `${context.bulkChangeId},x`) },
      stream: true,
    },
    {
      method: 'GET',
      path: '/portal/bulk-changes/new',
      auth: 'session',
      query: {
        carrierAccountId: fc.constantFrom(...ids.account),
        changeType: fc.constantFrom(...changeTypes),
      },
    },
    {
      method: 'POST',
      path: '/portal/bulk-changes/preview',
      auth: 'session',
      body: fc.oneof(
        { weight: 4, arbitrary: multipartBody(multipartFields, fc.oneof(goodCsv, csv)) },
        { weight: 1, arbitrary: portalForm({}) },
      ),
      weight: 4,
    },
    {
      method: 'GET',
      path: '/portal/bulk-changes/preview/:token',
      auth: 'session',
      params: { token: ['x', 'abc'] },
    },
    {
      method: 'POST',
      path: '/portal/bulk-changes/preview/:token',
      auth: 'session',
      params: { token: ['x'] },
      body: portalForm({ confirmation: weirdText }),
    },
    {
      method: 'GET',
      path: '/portal/bulk-changes/:id',
      auth: 'session',
      params: { id: ids.bulkChange },
      query: { status: fc.constantFrom(...rowStatuses, ''), q: iccid, cursor: cursorValue },
    },
    {
      method: 'GET',
      path: '/portal/bulk-changes/:id/events',
      auth: 'session',
      params: { id: ids.bulkChange },
      stream: true,
    },
    {
      method: 'GET',
      path: '/portal/bulk-changes/:id/results.csv',
      auth: 'session',
      params: { id: ids.bulkChange },
    },
    {
      method: 'GET',
      path: '/portal/bulk-changes/:id/results.xlsx',
      auth: 'session',
      params: { id: ids.bulkChange },
    },
    {
      method: 'GET',
      path: '/portal/carrier-accounts/:id/activation-workbook.xlsx',
      auth: 'session',
      params: { id: ids.account },
    },
    {
      method: 'POST',
      path: '/portal/bulk-changes/:id/retry',
      auth: 'session',
      params: { id: ids.bulkChange },
      body: portalForm({}),
    },
    {
      method: 'POST',
      path: '/portal/bulk-changes/:id/undo',
      auth: 'session',
      params: { id: ids.bulkChange },
      body: portalForm({}),
    },
    {
      method: 'POST',
      path: '/portal/bulk-changes/:id/cancel',
      auth: 'session',
      params: { id: ids.bulkChange },
      body: portalForm({}),
    },
    {
      method: 'POST',
      path: '/portal/bulk-changes/:id/resume',
      auth: 'session',
      params: { id: ids.bulkChange },
      body: portalForm({}),
    },
    {
      method: 'POST',
      path: '/portal/bulk-changes/:id/pause',
      auth: 'session',
      params: { id: ids.bulkChange },
      body: portalForm({}),
    },
    ...(['approve', 'reject'] as const).map((control) => ({
      method: 'POST',
      path: `/portal/bulk-changes/:id/${control}`,
      auth: 'session' as const,
      params: { id: ids.bulkChange },
      body: portalForm({ note: fc.oneof(fc.constantFrom('checked', ''), weirdText) }),
    })),
    {
      method: 'GET',
      path: '/portal/bulk-changes/:id/rows/:changeId',
      auth: 'session',
      params: { id: ids.bulkChange, changeId: ids.change },
    },
    { method: 'GET', path: '/portal/devices', auth: 'session', query: { q: iccid, cursor: cursorValue } },
    {
      method: 'GET',
      path: '/portal/devices/:id',
      auth: 'session',
      params: { id: ids.device },
      query: { cursor: cursorValue },
    },
    { method: 'GET', path: '/portal/reconciliations', auth: 'session' },
    {
      method: 'POST',
      path: '/portal/reconciliations',
      auth: 'session',
      body: portalForm({ carrierAccountId: fc.constantFrom(...ids.account, '', 'x') }),
    },
    ...['', '/drifts.csv'].map(
      (tail): RouteSpec => ({
        method: 'GET',
        path: `/portal/reconciliations/:id${tail}`,
        auth: 'session',
        params: { id: ids.reconciliation },
      }),
    ),
    {
      method: 'POST',
      path: '/portal/reconciliations/:id/fix',
      auth: 'session',
      params: { id: ids.reconciliation },
      body: portalForm({ 'drift-1': fc.constantFrom('on'), dryRun: fc.constantFrom('true', 'false', 'x') }),
    },
    { method: 'GET', path: '/portal/overview', auth: 'session' },
    {
      method: 'GET',
      path: '/portal/devices/export.csv',
      auth: 'session',
      query: {
        status: fc.constantFrom('active', 'suspended', 'nope', ''),
        carrierAccountId: fc.constantFrom(...ids.account, 'x'),
      },
    },
    {
      method: 'GET',
      path: '/portal/devices/export-for-editing',
      auth: 'session',
      query: {
        changeType: fc.constantFrom('status_update', 'customer_rate_plan_change', 'archival', ''),
        format: fc.constantFrom('csv', 'xlsx', 'pdf'),
        carrierAccountId: fc.constantFrom(...ids.account, 'x', ''),
        status: fc.constantFrom('active', 'nope', ''),
      },
    },
    { method: 'GET', path: '/portal/carrier-accounts', auth: 'session' },
    {
      method: 'GET',
      path: '/portal/carrier-accounts/new',
      auth: 'session',
      query: { carrier: fc.constantFrom('jasper', 'thingspace', 'telegence', 'nope', '') },
    },
    {
      method: 'POST',
      path: '/portal/carrier-accounts',
      auth: 'session',
      body: portalForm({
        carrier: fc.constantFrom('jasper', 'teal', 'nope'),
        name: fc.oneof(fc.constantFrom('Fuzz portal account', ''), weirdText),
        baseUrl: fc.constantFrom('https://example.com/rws', 'http://127.0.0.1:1/', 'not a url', ''),
        username: fc.constantFrom('demo', ''),
        apiKey: fc.constantFrom('key', ''),
      }),
    },
    {
      method: 'POST',
      path: '/portal/carrier-accounts/:id',
      auth: 'session',
      params: { id: ids.account },
      body: portalForm({
        name: fc.oneof(fc.constantFrom('Renamed by the fuzz', ''), weirdText),
        requestsPerSecond: fc.constantFrom('5', '1e-300', 'abc', ''),
      }),
    },
    {
      method: 'POST',
      path: '/portal/carrier-accounts/:id/inventory-sync',
      auth: 'session',
      params: { id: ids.account },
      body: portalForm({}),
    },
    { method: 'GET', path: '/portal/carrier-accounts/health/events', auth: 'session', stream: true },
    {
      method: 'POST',
      path: '/portal/carrier-accounts/:id/write-enabled',
      auth: 'session',
      params: { id: ids.account },
      body: portalForm({ writeEnabled: fc.constantFrom('true', 'false') }),
    },
    {
      method: 'POST',
      path: '/portal/carrier-accounts/:id/limits',
      auth: 'session',
      params: { id: ids.account },
      body: portalForm({
        requestsPerSecond: fc.constantFrom('5', '1e-300', 'abc', ''),
        maxConcurrent: fc.constantFrom('4', '0', '-1'),
      }),
    },
    { method: 'GET', path: '/portal/sites', auth: 'session' },
    {
      method: 'POST',
      path: '/portal/sites',
      auth: 'session',
      body: portalForm({
        name: fc.oneof(fc.constant('Portal depot'), weirdText),
        addressLine1: fc.constantFrom('1 Main St', ''),
        city: fc.constantFrom('Wenatchee', ''),
        state: fc.constantFrom('WA'),
        zipCode: fc.constantFrom('98801', '!'),
        isDefault: fc.constantFrom('on', 'off'),
      }),
    },
    ...['default', 'delete'].map(
      (action): RouteSpec => ({
        method: 'POST',
        path: `/portal/sites/:id/${action}`,
        auth: 'session',
        params: { id: ids.site },
        body: portalForm({}),
      }),
    ),
    { method: 'GET', path: '/portal/webhooks', auth: 'session' },
    { method: 'GET', path: '/portal/webhooks/:id', auth: 'session', params: { id: ids.webhook } },
    {
      method: 'POST',
      path: '/portal/webhooks',
      auth: 'session',
      body: portalForm({
        url: fc.constantFrom(`${context.simulatorUrl}/hook`, 'http://10.0.0.1/x', 'x'),
        description: weirdText,
        'event:bulk_change.completed': fc.constantFrom('on', 'off'),
      }),
    },
    ...['rotate-secret', 'test', 'delete'].map(
      (action): RouteSpec => ({
        method: 'POST',
        path: `/portal/webhooks/:id/${action}`,
        auth: 'session',
        params: { id: ids.webhook },
        body: portalForm({}),
      }),
    ),
    {
      method: 'POST',
      path: '/portal/webhooks/:id/deliveries/:deliveryId/redeliver',
      auth: 'session',
      params: { id: ids.webhook, deliveryId: ids.delivery },
      body: portalForm({}),
    },
    { method: 'GET', path: '/portal/users', auth: 'session' },
    {
      method: 'POST',
      path: '/portal/users',
      auth: 'session',
      body: portalForm({
        name: weirdText,
        email: fc.constantFrom('portal@acme.test', 'fuzz@acme.test', 'x'),
        role: roleValue,
        password: fc.constantFrom('a long enough password', 'short'),
        'module:m2m': fc.constantFrom('on', 'off'),
      }),
    },
    {
      method: 'POST',
      path: '/portal/users/:id',
      auth: 'session',
      params: { id: ids.user },
      body: portalForm({ role: roleValue, 'module:mobility': fc.constantFrom('on', 'off') }),
    },
    ...['disable', 'enable'].map(
      (action): RouteSpec => ({
        method: 'POST',
        path: `/portal/users/:id/${action}`,
        auth: 'session',
        params: { id: ids.user },
        body: portalForm({}),
      }),
    ),
    { method: 'GET', path: '/portal/api-keys', auth: 'session' },
    {
      method: 'POST',
      path: '/portal/api-keys',
      auth: 'session',
      body: portalForm({ name: weirdText, role: roleValue }),
    },
    {
      method: 'POST',
      path: '/portal/api-keys/:id/revoke',
      auth: 'session',
      params: { id: ids.key },
      body: portalForm({}),
    },
    {
      method: 'POST',
      path: '/portal/notification-settings',
      auth: 'session',
      body: portalForm({ emails: fc.oneof(fc.constantFrom('noc@acme.test', 'a@b.c, nope'), weirdText) }),
    },
    { method: 'GET', path: '/portal/guardrails', auth: 'session' },
    {
      method: 'POST',
      path: '/portal/guardrails',
      auth: 'session',
      body: portalForm({
        approvalAboveLines: fc.oneof(fc.constantFrom('', '0', '100', '-1', '1.5'), weirdText),
        destructiveLinesPerHour: fc.oneof(fc.constantFrom('', '1', '2000', '0'), weirdText),
      }),
    },
    { method: 'GET', path: '/no/such/route', auth: 'key' },
  ];
}

/** The `Authorization` a request carries: mostly the right key for the route, sometimes anything. */
function authorization(context: FuzzContext, auth: Auth): fc.Arbitrary<string | undefined> {
  const { keys } = context;
  const bearer = (key: string) => `Bearer ${key}`;
  const wrong = fc.oneof(
    fc.constant(undefined),
    headerText.map((text) => `Bearer ${text}`),
    fc.constantFrom(
      'Bearer',
      'Bearer  ',
      'Basic abc',
      'bearer bck_',
      `Bearer ${keys.admin}x`,
      `Bearer ${keys.admin.slice(0, 12)}`,
    ),
  );
  if (auth === 'key') {
    return fc.oneof(
      { weight: 10, arbitrary: fc.constant(bearer(keys.admin)) },
      { weight: 3, arbitrary: fc.constantFrom(bearer(keys.operator), bearer(keys.viewer)) },
      { weight: 1, arbitrary: fc.constant(bearer(keys.otherTenant)) },
      { weight: 2, arbitrary: wrong },
    );
  }
  if (auth === 'callback') {
    const basic = (user: string, password: string) =>
      `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    return fc.oneof(
      { weight: 3, arbitrary: fc.constant(undefined) },
      { weight: 3, arbitrary: fc.constant(basic(context.callback.username, context.callback.password)) },
      {
        weight: 1,
        arbitrary: fc.constantFrom(basic('wrong', 'wrong'), basic('ü', 'ö'.repeat(100)), 'Basic %%%'),
      },
      { weight: 1, arbitrary: wrong },
    );
  }
  return fc.oneof({ weight: 8, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: wrong });
}

/** The `Cookie` a request carries: the portal session for its pages, or odd ones. */
function cookie(
  context: FuzzContext,
  auth: Auth,
  session: 'main' | 'spare',
): fc.Arbitrary<string | undefined> {
  const odd = fc.constantFrom(
    'bulkchange_session=%E0%A4%A',
    'bulkchange_session=%',
    'bulkchange_session',
    'bulkchange_session=a; bulkchange_session=b',
    `${context.signIn.cookie}x`,
    '=; ;;',
  );
  const valid = fc.constant(
    `${context[session === 'main' ? 'portal' : 'spare'].cookie}; ${context.signIn.cookie}`,
  );
  if (auth === 'session')
    return fc.oneof(
      { weight: 8, arbitrary: valid },
      { weight: 1, arbitrary: odd },
      { weight: 1, arbitrary: fc.constant(undefined) },
    );
  if (auth === 'none')
    return fc.oneof(
      { weight: 4, arbitrary: fc.constant(context.signIn.cookie) },
      { weight: 2, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: odd },
    );
  return fc.oneof({ weight: 8, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: odd });
}

/** A client address, as a trusted proxy says it: many addresses, so throttling is seen, not universal. */
const forwardedFor = fc.oneof(
  {
    weight: 20,
    arbitrary: fc.tuple(fc.nat({ max: 255 }), fc.nat({ max: 255 })).map(([a, b]) => `198.18.${a}.${b}`),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom('203.0.113.1', '2001:db8::1', 'unknown', '999.1.1.1', '1.2.3.4, 5.6.7.8', ''),
  },
);

/** Requests to one route. */
function requestsFor(context: FuzzContext, spec: RouteSpec): fc.Arbitrary<FuzzRequest> {
  const segments = spec.path
    .split('/')
    .map((segment) =>
      segment.startsWith(':') ? pathSegment(spec.params?.[segment.slice(1)] ?? ['x']) : fc.constant(segment),
    );
  return fc
    .record({
      path: spec.pathValues ?? fc.tuple(...segments).map((parts) => parts.join('/')),
      query: fc.oneof(
        { weight: 3, arbitrary: spec.query ? queryString(spec.query) : fc.constant('') },
        { weight: spec.queryValues ? 2 : 0, arbitrary: spec.queryValues ?? fc.constant('') },
        { weight: 1, arbitrary: queryString({}) },
      ),
      authorization: authorization(context, spec.auth),
      cookie: cookie(context, spec.auth, spec.session ?? 'main'),
      forwarded: forwardedFor,
      body: spec.body ?? strayBody,
      extra: fc.dictionary(
        fc.constantFrom(
          'idempotency-key',
          'x-csrf-token',
          'accept',
          'origin',
          'x-forwarded-proto',
          'accept-encoding',
          'range',
        ),
        headerText,
        { maxKeys: 2 },
      ),
    })
    .map(({ path, query, authorization, cookie, forwarded, body, extra }) => {
      const headers: Record<string, string> = { ...extra, 'x-forwarded-for': forwarded };
      if (authorization !== undefined) headers.authorization = authorization;
      if (cookie !== undefined) headers.cookie = cookie;
      return {
        route: `${spec.method} ${spec.path}`,
        method: spec.method,
        target: path + query,
        headers,
        body: spec.method === 'GET' ? undefined : body,
        stream: spec.stream,
      };
    });
}

/** Malformed HTTP on the wire: what Node's parser refuses before any route. */
const rawRequests: fc.Arbitrary<FuzzRequest> = fc
  .record({
    method: fc.constantFrom('GET', 'POST', 'FOO', 'G\u00e9T', ''),
    target: fc.oneof(
      fc.constantFrom('/healthz', '/api/v1/bulk-changes', '*', 'http://x/', '/a b', '/%', '/\u00ff'),
      weirdText,
    ),
    version: fc.constantFrom('HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/1.1x', ''),
    header: fc.constantFrom(
      'Host: x',
      'Host: x\r\nBad Header',
      'Host: x\r\nX-A: \u00e9\u00ff',
      'Host: x\r\nContent-Length: 1\r\nContent-Length: 2',
      'Host: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3',
      'Host: x\r\nX-Folded: a\r\n b',
      `Host: x\r\nX-Big: ${'a'.repeat(20_000)}`,
      'Host: x\r\nTransfer-Encoding: chunked',
    ),
    lineEnd: fc.constantFrom('\r\n', '\r\n', '\n'),
  })
  .map(({ method, target, version, header, lineEnd }) => {
    const chunked = header.endsWith('Transfer-Encoding: chunked');
    const body = chunked ? `zz\r\nabc\r\n0\r\n\r\n` : '';
    const text = `${method} ${target} ${version}${lineEnd}${header.replaceAll('\r\n', lineEnd)}${lineEnd}Connection: close${lineEnd}${lineEnd}${body}`;
    return { route: 'raw HTTP', method, target, headers: {}, raw: Buffer.from(text, 'latin1') };
  });

/** Requests to every route, in proportion to their weight, and a share of malformed HTTP. */
export function fuzzRequests(context: FuzzContext): fc.Arbitrary<FuzzRequest> {
  return fc.oneof(
    ...routeSpecs(context).map((spec) => ({
      weight: spec.weight ?? 1,
      arbitrary: requestsFor(context, spec),
    })),
    { weight: 3, arbitrary: rawRequests },
  );
}

/** The routes the catalogue covers, as `METHOD /path` the way the app declares them. */
export const coveredRoutes = (context: FuzzContext) =>
  new Set(routeSpecs(context).map((spec) => `${spec.method} ${spec.path}`));
