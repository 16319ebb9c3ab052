import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { createApiKey, ensureTenant } from '../../src/accounts/api-keys.ts';
import type { Role } from '../../src/accounts/roles.ts';
import { luhnCheckDigit } from '../../src/bulk-changes/identifiers.ts';
import { createJasperSimulator } from '../../src/carriers/jasper/simulator.ts';
import { normaliseJasperStatus } from '../../src/carriers/jasper/statuses.ts';
import { loadConfig } from '../../src/config.ts';
import { devicesRepository, newDevice } from '../../src/devices/devices-repository.ts';
import { type Service, startService } from '../../src/runtime.ts';
import { newId } from '../../src/shared/ids.ts';
import { createPostgresUrl } from './databases.ts';

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
  api<T = Record<string, unknown>>(
    method: string,
    pathname: string,
    options?: { body?: unknown; key?: string | null; contentType?: string; headers?: Record<string, string> },
  ): Promise<ApiResponse<T>>;
  keyFor(tenant: string, role: Role): Promise<string>;
  /** Closed with the service. */
  closeWithService(close: () => Promise<void>): void;
  stop(): Promise<void>;
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
    ...(postgres ? { DATABASE_URL: postgres.url } : {}),
    ...env,
  });
  const service = await startService({ config, role: 'all', demo: false, logger: pino({ level: 'silent' }) });
  const tenantId = await ensureTenant(service.database.db, 'acme');
  const { key: adminKey } = await createApiKey(service.database.db, { tenantId, role: 'admin' });
  const url = service.url!;
  const api: TestService['api'] = async (method, pathname, options = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    const key = options.key === undefined ? adminKey : options.key;
    if (key) headers.authorization = `Bearer ${key}`;
    let body: string | undefined;
    if (options.body !== undefined) {
      headers['content-type'] = options.contentType ?? 'application/json';
      body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
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
    api,
    async keyFor(tenant, role) {
      const id = await ensureTenant(service.database.db, tenant);
      return (await createApiKey(service.database.db, { tenantId: id, role })).key;
    },
    closeWithService(close) {
      closers.push(close);
    },
    async stop() {
      await service.stop();
      await Promise.all(closers.map((close) => close()));
      await postgres?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export const testIccid = (index: number, prefix = '8901999') => {
  const payload = prefix + String(index).padStart(11, '0');
  return payload + luhnCheckDigit(payload);
};

export interface JasperFixture {
  simulator: ReturnType<typeof createJasperSimulator>;
  simulatorUrl: string;
  accountId: string;
  iccids: string[];
}

/**
 * A Jasper simulator on its own port, an account pointing at it and `count` lines in the inventory and
 * the simulator, in `state`.
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
  },
): Promise<JasperFixture> {
  const simulator = createJasperSimulator({
    faults: { rateLimitPerSecond: null, maxConcurrent: null, ...options.faults },
  });
  const simulatorUrl = await simulator.listen({ port: 0, host: '127.0.0.1' });
  test.closeWithService(() => simulator.close());
  const created = await test.api<{ id: string }>('POST', '/api/v1/carrier-accounts', {
    body: {
      name: `jasper ${newId()}`,
      carrier: 'jasper',
      baseUrl: simulatorUrl,
      credentials: { username: 'demo', apiKey: 'demo-api-key' },
      writeEnabled: options.writeEnabled ?? true,
      settings: { limits: { requestsPerSecond: null, maxConcurrent: 4, ...options.limits } },
    },
  });
  if (created.status !== 201) throw new Error(`account: ${created.text}`);
  const state = options.state ?? 'ACTIVATION_READY';
  const iccids = Array.from({ length: options.count }, (_, index) => testIccid(index, options.prefix));
  await seedJasperLines(test, created.body.id, simulatorUrl, iccids, state);
  return { simulator, simulatorUrl, accountId: created.body.id, iccids };
}

export async function seedJasperLines(
  test: TestService,
  accountId: string,
  simulatorUrl: string | null,
  iccids: string[],
  state: string,
): Promise<void> {
  const now = Date.now();
  await devicesRepository(test.service.database.db).insertMany(
    iccids.map((iccid) =>
      newDevice({
        id: newId(now),
        tenant_id: test.tenantId,
        carrier_account_id: accountId,
        iccid,
        status: normaliseJasperStatus(state),
        carrier_status: state,
        carrier_rate_plan: 'IoT Basic 1MB',
        communication_plan: 'CP_Basic_ON',
      }),
    ),
    now,
  );
  if (simulatorUrl) {
    const response = await fetch(`${simulatorUrl}/_sim/devices`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(
        iccids.map((iccid) => ({
          iccid,
          state,
          ratePlan: 'IoT Basic 1MB',
          communicationPlan: 'CP_Basic_ON',
        })),
      ),
    });
    if (!response.ok) throw new Error(`seed simulator: ${await response.text()}`);
  }
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
