import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { carrierAccountsRepository } from '../src/accounts/carrier-accounts-repository.ts';
import { createJasperSimulator } from '../src/carriers/jasper/simulator/simulator.ts';
import { normaliseJasperStatus } from '../src/carriers/jasper/statuses.ts';
import { changesOf, submitChange } from './support/bulk-changes.ts';
import { carrierAccountFixture } from './support/carrier-accounts.ts';
import { testDialects } from './support/databases.ts';
import { insertLines } from './support/inventory.ts';
import { simAdmin } from './support/processes.ts';
import { startTestService, type TestService, testIccid, waitForFinish } from './support/service.ts';

/** Where the test's carriers listen: a loopback address of its own, which the policy allows by itself. */
const CARRIER_HOST = '127.0.0.2';

/** A server on every loopback address that counts the connections made to it: none may be. */
async function startTrap(): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  let connections = 0;
  const server: Server = createServer((_request, response) => response.end('{"secret":"internal"}'));
  server.on('connection', () => {
    connections += 1;
  });
  await new Promise<void>((resolve) => server.listen({ port: 0, host: '::', ipv6Only: false }, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => connections,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A "carrier" that answers every request with a redirect into the trap. */
async function startRedirector(location: string): Promise<{ port: number; close: () => Promise<void> }> {
  const server = createServer((_request, response) => {
    response.writeHead(307, { location, 'content-type': 'text/plain' });
    response.end('moved');
  });
  await new Promise<void>((resolve) => server.listen({ port: 0, host: CARRIER_HOST }, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

type Change = { status: string; error: { code: string; message: string; carrierCode?: string } | null };
type LogEntry = {
  system: string;
  outcome: string;
  httpStatus: number | null;
  response: unknown;
  request: unknown;
};

/** Every loopback, link-local, unspecified and mapped form, in the notations a URL accepts. */
const refusedHosts = (port: number) => [
  `127.0.0.1:${port}`,
  `2130706433:${port}`,
  `0x7f.1:${port}`,
  `0177.0.0.1:${port}`,
  `127.1:${port}`,
  `0.0.0.0:${port}`,
  `[::1]:${port}`,
  `[::ffff:127.0.0.1]:${port}`,
  `[::]:${port}`,
  `localhost:${port}`,
  '169.254.169.254',
  '10.0.0.1',
  '[fe80::1]',
];

for (const dialect of testDialects) {
  describe(`outbound address policy on ${dialect}`, () => {
    let test: TestService;
    let trap: Awaited<ReturnType<typeof startTrap>>;
    let simulatorUrl: string;
    let line = 0;
    const jasperAccount = { carrier: 'jasper', credentials: { username: 'demo', apiKey: 'demo-api-key' } };

    const simulator = createJasperSimulator({ faults: { rateLimitPerSecond: null, maxConcurrent: null } });

    before(async () => {
      trap = await startTrap();
      // Only the carrier simulator's address is allowed (Linux routes all of 127/8 to loopback): every
      // other loopback form, 127.0.0.1 included, stays refused.
      test = await startTestService(dialect, { BULKCHANGE_OUTBOUND_ALLOW: `${CARRIER_HOST}/32` });
      simulatorUrl = await simulator.listen({ port: 0, host: CARRIER_HOST });
    });
    after(async () => {
      await test.stop();
      await simulator.close();
      await trap.close();
    });

    /** An account on the simulator with one active line, its base URL then moved to `baseUrl` in storage. */
    const accountStoredWith = async (baseUrl: string | undefined) => {
      const iccid = testIccid(++line, '8901301');
      const accountId = await carrierAccountFixture(test, { ...jasperAccount, baseUrl: simulatorUrl });
      await simAdmin(simulatorUrl).seed([
        { iccid, state: 'ACTIVATION_READY', ratePlan: 'IoT Basic 1MB', communicationPlan: 'CP_Basic_ON' },
      ]);
      await insertLines(test, accountId, [
        { iccid, status: normaliseJasperStatus('ACTIVATION_READY'), carrierStatus: 'ACTIVATION_READY' },
      ]);
      // As if saved before this policy (an older version, or a config that allowed it then).
      if (baseUrl)
        await carrierAccountsRepository(test.service.database.db).update(test.tenantId, accountId, {
          baseUrl,
        });
      return { accountId, iccid };
    };

    const activate = async (accountId: string, iccid: string) => {
      const id = await submitChange(test, accountId, [{ iccid }], 'status_update', {
        targetStatus: 'active',
      });
      await waitForFinish(test, id);
      const [change] = await changesOf<Change>(test, id);
      const log = await test.api<{ items: LogEntry[] }>('GET', `/api/v1/bulk-changes/${id}/log?limit=100`);
      return { change, log: log.body.items };
    };

    it('refuses every internal form of a base URL when an account is created or updated', async () => {
      for (const host of refusedHosts(trap.port)) {
        const created = await test.api<{
          error: { code: string; details: Array<{ field: string; code: string }> };
        }>('POST', '/api/v1/carrier-accounts', {
          body: { ...jasperAccount, name: `refused ${host}`, baseUrl: `http://${host}/` },
        });
        assert.equal(created.status, 422, `${host}: ${created.text}`);
        assert.equal(created.body.error.code, 'ADDRESS_NOT_ALLOWED', host);
        assert.deepEqual(
          created.body.error.details.map((detail) => [detail.field, detail.code]),
          [['baseUrl', 'ADDRESS_NOT_ALLOWED']],
        );
      }
      const accountId = await carrierAccountFixture(test, { ...jasperAccount, baseUrl: simulatorUrl });
      const patched = await test.api<{ error: { code: string } }>(
        'PATCH',
        `/api/v1/carrier-accounts/${accountId}`,
        {
          body: { baseUrl: 'http://169.254.169.254/latest/meta-data' },
        },
      );
      assert.equal(patched.status, 422, patched.text);
      assert.equal(patched.body.error.code, 'ADDRESS_NOT_ALLOWED');
      const billing = await test.api<{ error: { code: string } }>('PUT', '/api/v1/billing-connection', {
        body: {
          system: 'revio',
          baseUrl: `http://[::ffff:127.0.0.1]:${trap.port}`,
          credentials: { username: 'api@client', password: 'secret', subscriptionKey: 'key' },
        },
      });
      assert.equal(billing.status, 422, billing.text);
      assert.equal(billing.body.error.code, 'ADDRESS_NOT_ALLOWED');
      assert.equal(trap.connections(), 0);
    });

    it('refuses URLs and paths that are not plain http(s) on one host', async () => {
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ baseUrl: 'http://user:pass@example.com' }, 'baseUrl'],
        [{ baseUrl: 'https://example.com/api?x=1' }, 'baseUrl'],
        [{ baseUrl: simulatorUrl, settings: { apiPath: '//127.0.0.1/rws' } }, 'settings.apiPath'],
        [{ baseUrl: simulatorUrl, settings: { apiPath: '/rws/../../admin' } }, 'settings.apiPath'],
        [{ baseUrl: simulatorUrl, settings: { apiPath: '/rws?x=' } }, 'settings.apiPath'],
        [{ baseUrl: simulatorUrl, settings: { apiPath: '/%2e%2e/x' } }, 'settings.apiPath'],
      ];
      for (const [fields, field] of cases) {
        const created = await test.api<{
          error: { code: string; details: Array<{ field: string; code: string }> };
        }>('POST', '/api/v1/carrier-accounts', {
          body: {
            ...jasperAccount,
            name: `shape ${JSON.stringify(fields)}`,
            baseUrl: simulatorUrl,
            ...fields,
          },
        });
        assert.equal(created.status, 422, created.text);
        assert.ok(
          created.body.error.details.some(
            (detail) => detail.field === field && detail.code === 'INVALID_URL',
          ),
          created.text,
        );
      }
    });

    it('calls an allowed carrier', async () => {
      const { accountId, iccid } = await accountStoredWith(undefined);
      const { change } = await activate(accountId, iccid);
      assert.equal(change.status, 'succeeded', JSON.stringify(change));
    });

    it('refuses at call time every internal form stored in an account: the row fails, nothing is echoed', async () => {
      for (const host of refusedHosts(trap.port)) {
        const { accountId, iccid } = await accountStoredWith(`http://${host}`);
        const { change, log } = await activate(accountId, iccid);
        assert.equal(change.status, 'failed', host);
        assert.equal(change.error?.code, 'ADDRESS_NOT_ALLOWED', `${host}: ${JSON.stringify(change)}`);
        assert.equal(change.error?.carrierCode, 'ADDRESS_NOT_ALLOWED');
        assert.match(change.error?.message ?? '', /refused by the outbound address policy/);
        // The carrier calls (the bulk change's own entries, such as its creation, are the platform's).
        const calls = log.filter((entry) => entry.system !== 'bulkchange');
        assert.ok(calls.length > 0, `${host}: the refused call is in the log`);
        for (const entry of calls) {
          assert.equal(entry.response, null, `${host}: no response is kept`);
          assert.equal(entry.httpStatus, null);
        }
        assert.doesNotMatch(JSON.stringify({ change, log }), /internal/);
      }
      assert.equal(trap.connections(), 0, 'no connection reached an internal address');
    });

    it('does not follow a redirect into an internal address', async () => {
      const redirector = await startRedirector(`http://127.0.0.1:${trap.port}/rws/api/v1/devices`);
      try {
        const { accountId, iccid } = await accountStoredWith(`http://${CARRIER_HOST}:${redirector.port}`);
        const { change } = await activate(accountId, iccid);
        assert.equal(change.status, 'failed');
        assert.doesNotMatch(JSON.stringify(change), /internal/);
        assert.equal(trap.connections(), 0);
      } finally {
        await redirector.close();
      }
    });
  });
}
