import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { pino } from 'pino';
import { createApiKey, ensureTenant } from '../../src/accounts/api-keys.ts';
import {
  createJasperSimulator,
  type JasperSimulatorOptions,
} from '../../src/carriers/jasper/simulator/simulator.ts';
import { normaliseJasperStatus } from '../../src/carriers/jasper/statuses.ts';
import { loadConfig } from '../../src/config.ts';
import { luhnCheckDigit } from '../../src/core/identifiers.ts';
import type { Role } from '../../src/core/roles.ts';
import { type Service, startService } from '../../src/runtime.ts';
import { carrierAccountFixture } from './carrier-accounts.ts';
import { createPostgresUrl } from './databases.ts';
import { insertLines } from './inventory.ts';
import { simAdmin } from './processes.ts';

export interface ApiResponse<T = Record<string, unknown>> {
  status: number;
  body: T;
  text: string;
  headers: Headers;
}

export interface TestService {
  service: Service;
  url: string;
  adminKey: string;
  tenantId: string;
  /** Where its data is (`BULKCHANGE_DATA_DIR`, `DATABASE_URL`): for a CLI run against the same store. */
  storeEnv: Record<string, string>;
  api<T = Record<string, unknown>>(
    method: string,
    pathname: string,
    options?: { body?: unknown; key?: string | null; contentType?: string; headers?: Record<string, string> },
  ): Promise<ApiResponse<T>>;
  keyFor(tenant: string, role: Role): Promise<string>;
  /** Starts a simulator on a free port, to be closed with the service; resolves with its URL. */
  serveSimulator(simulator: Listening): Promise<string>;
  stop(): Promise<void>;
}

/** A simulator (carrier or billing) not yet listening. */
interface Listening {
  listen(options: { port: number }): Promise<string>;
  close(): Promise<void>;
}

/** The whole service in this process (API + worker), on a fresh database of the given dialect. */
export async function startTestService(
  dialect: 'sqlite' | 'postgres' = 'sqlite',
  env: Record<string, string> = {},
): Promise<TestService> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'bulkchange-svc-'));
  const postgres = dialect === 'postgres' ? await createPostgresUrl() : undefined;
  const config = loadConfig({
    PORT: '0',
    BULKCHANGE_DATA_DIR: dataDir,
    WORKER_POLL_INTERVAL_MS: '50',
    JOB_LEASE_MS: '3000',
    SHUTDOWN_GRACE_MS: '2000',
    // The simulators of the tests listen on loopback, which the default outbound policy refuses.
    BULKCHANGE_OUTBOUND_ALLOW: '127.0.0.0/8,::1',
    // Every answer is checked against its route's documented schema and status (ADR 0058).
    BULKCHANGE_ANSWER_CHECK: 'strict',
    ...(postgres ? { DATABASE_URL: postgres.url } : {}),
    ...env,
  });
  const service = await startService({ config, role: 'all', demo: false, logger: pino({ level: 'silent' }) });
  const storeEnv = { BULKCHANGE_DATA_DIR: dataDir, ...(postgres ? { DATABASE_URL: postgres.url } : {}) };
  const tenantId = await ensureTenant(service.database.db, 'acme');
  const { key: adminKey } = await createApiKey(service.database.db, { tenantId, role: 'admin' });
  const url = service.url!;
  const api: TestService['api'] = async (method, pathname, options = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    const key = options.key === undefined ? adminKey : options.key;
    if (key) headers.authorization = `Bearer ${key}`;
    let body: string | Uint8Array<ArrayBuffer> | undefined;
    if (options.body !== undefined) {
      headers['content-type'] = options.contentType ?? 'application/json';
      // A file (an .xlsx) goes as its bytes.
      if (options.body instanceof Uint8Array) body = new Uint8Array(options.body);
      else body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    }
    const response = await fetch(url + pathname, { method, headers, body });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {}
    return { status: response.status, body: parsed as never, text, headers: response.headers };
  };
  const closers: Array<() => Promise<void>> = [];
  return {
    service,
    url,
    adminKey,
    tenantId,
    storeEnv,
    api,
    async keyFor(tenant, role) {
      const id = await ensureTenant(service.database.db, tenant);
      return (await createApiKey(service.database.db, { tenantId: id, role })).key;
    },
    async serveSimulator(simulator) {
      const url = await simulator.listen({ port: 0 });
      closers.push(() => simulator.close());
      return url;
    },
    async stop() {
      await service.stop();
      await Promise.all(closers.map((close) => close()));
      await postgres?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * The service of a `describe` block, on `dialect`: started before its tests and stopped after them. The
 * object is filled in when it starts, so read it only inside tests and hooks.
 */
export function serviceForSuite(
  dialect: 'sqlite' | 'postgres',
  env: Record<string, string> = {},
): TestService {
  const test = {} as TestService;
  before(async () => {
    Object.assign(test, await startTestService(dialect, env));
  });
  after(() => test.stop?.());
  return test;
}

export const testIccid = (index: number, prefix = '8901999') => {
  const payload = prefix + String(index).padStart(11, '0');
  return payload + luhnCheckDigit(payload);
};

/** `count` test ICCIDs under one prefix, from index 0. */
export const testIccids = (count: number, prefix?: string) =>
  Array.from({ length: count }, (_, index) => testIccid(index, prefix));

export interface JasperFixture {
  simulator: ReturnType<typeof createJasperSimulator>;
  simulatorUrl: string;
  accountId: string;
  iccids: string[];
  /** Lines in the inventory that the carrier does not know (it refuses changes to them). */
  unknownToCarrier: string[];
}

/**
 * A Jasper simulator on its own port, an account pointing at it and `count` lines in the inventory and
 * the simulator, in `state`; then `unknownToCarrier` more lines in `state` in the inventory only.
 */
export async function jasperFixture(
  test: TestService,
  options: {
    count: number;
    state?: string;
    limits?: Record<string, unknown>;
    faults?: Record<string, unknown>;
    writeEnabled?: boolean;
    prefix?: string;
    unknownToCarrier?: number;
    /** The account's settings (a variant, say). */
    settings?: Record<string, unknown>;
    /** The simulator's custom fields (names and listed values). */
    customFields?: JasperSimulatorOptions['customFields'];
  },
): Promise<JasperFixture> {
  const simulator = createJasperSimulator({
    faults: { rateLimitPerSecond: null, maxConcurrent: null, ...options.faults },
    customFields: options.customFields,
  });
  const simulatorUrl = await test.serveSimulator(simulator);
  const accountId = await carrierAccountFixture(test, {
    carrier: 'jasper',
    baseUrl: simulatorUrl,
    credentials: { username: 'demo', apiKey: 'demo-api-key' },
    writeEnabled: options.writeEnabled,
    settings: options.settings,
    limits: { requestsPerSecond: null, maxConcurrent: 4, ...options.limits },
  });
  const state = options.state ?? 'ACTIVATION_READY';
  const lines = testIccids(options.count + (options.unknownToCarrier ?? 0), options.prefix);
  const plans = { ratePlan: 'IoT Basic 1MB', communicationPlan: 'CP_Basic_ON' };
  await insertLines(
    test,
    accountId,
    lines.map((iccid) => ({
      iccid,
      status: normaliseJasperStatus(state),
      carrierStatus: state,
      carrierRatePlan: plans.ratePlan,
      communicationPlan: plans.communicationPlan,
    })),
  );
  const iccids = lines.slice(0, options.count);
  await simAdmin(simulatorUrl).seed(iccids.map((iccid) => ({ iccid, state, ...plans })));
  return { simulator, simulatorUrl, accountId, iccids, unknownToCarrier: lines.slice(options.count) };
}

/** Polls a bulk change until it has finished (or the time runs out). */
export async function waitForFinish(
  test: TestService,
  id: string,
  timeoutMs = 60_000,
  key?: string,
): Promise<{ status: string; counts: Record<string, number> } & Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await test.api<{ status: string; counts: Record<string, number> }>(
      'GET',
      `/api/v1/bulk-changes/${id}`,
      {
        key,
      },
    );
    if (['completed', 'completed_with_errors', 'failed', 'cancelled'].includes(response.body.status))
      return response.body;
    if (Date.now() > deadline)
      throw new Error(`bulk change ${id} still ${response.body.status}: ${response.text}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
