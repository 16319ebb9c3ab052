import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { pondAdapter } from '../../src/carriers/pond/adapter.ts';
import type { PondClient } from '../../src/carriers/pond/client.ts';
import { tealAdapter } from '../../src/carriers/teal/adapter.ts';
import type { TealClient } from '../../src/carriers/teal/client.ts';
import { auditedContext, clientOf, testAccount, testKit } from './kit.ts';

/**
 * POND and Teal publish no wire documents: an account can say its API's header names, paths and key
 * casing. These servers speak PascalCase on other paths and headers; the real clients, configured
 * so, must talk to them (and anything else is refused, so a client ignoring its settings fails).
 */
describe('a configurable wire (POND, Teal)', () => {
  const servers: FastifyInstance[] = [];
  after(() => Promise.all(servers.map((server) => server.close())));

  it('POND: its own key header, paths and PascalCase bodies', async () => {
    const seen: Array<{ method: string; url: string; body: unknown }> = [];
    const server = Fastify();
    servers.push(server);
    server.addHook('onRequest', async (request, reply) => {
      if (request.headers['pond-auth-key'] !== 'k-1')
        await reply.code(401).send({ Error: { Code: 'AUTH', Message: 'no key' } });
    });
    server.get('/v2/dist-9/sims', async (request) => {
      seen.push({ method: 'GET', url: request.url, body: null });
      return { Total: 1, Items: [{ Iccid: '89000000000000000001', Status: 'ACTIVE', Msisdn: '4470000001' }] };
    });
    server.post('/v2/dist-9/sims/:iccid/bundles', async (request) => {
      seen.push({ method: 'POST', url: request.url, body: request.body });
      return { PackageId: 'pk-1', PackageTypeId: 'PT-5', Status: 'PENDING' };
    });
    server.put('/v2/dist-9/bundles/:id/state', async (request) => {
      seen.push({ method: 'PUT', url: request.url, body: request.body });
      return { PackageId: 'pk-1', PackageTypeId: 'PT-5', Status: 'ACTIVE' };
    });
    const baseUrl = await server.listen({ port: 0, host: '127.0.0.1' });
    const adapter = pondAdapter(testKit());
    const client = clientOf(
      adapter,
      testAccount(adapter, {
        baseUrl,
        credentials: { apiKey: 'k-1' },
        settings: {
          distributorId: 'dist-9',
          apiKeyHeader: 'Pond-Auth-Key',
          packageStatusMethod: 'PUT',
          bodyCase: 'pascal',
          paths: {
            devices: '/v2/{distributorId}/sims',
            deviceStatus: '/v2/{distributorId}/sims/{iccid}/state',
            packages: '/v2/{distributorId}/sims/{iccid}/bundles',
            packageStatus: '/v2/{distributorId}/bundles/{packageId}/state',
          },
        },
      }),
    ) as PondClient;
    const context = auditedContext();
    const page = await client.listDevices(0, context);
    assert.deepEqual(page.items[0].iccid, '89000000000000000001');
    const added = await client.addPackage('89000000000000000001', 'PT-5', context);
    assert.equal(added.packageId, 'pk-1');
    const active = await client.setPackageStatus('pk-1', 'ACTIVE', context);
    assert.equal(active.status, 'ACTIVE');
    assert.deepEqual(seen.slice(1), [
      {
        method: 'POST',
        url: '/v2/dist-9/sims/89000000000000000001/bundles',
        body: { PackageTypeId: 'PT-5' },
      },
      { method: 'PUT', url: '/v2/dist-9/bundles/pk-1/state', body: { PackageStatus: 'ACTIVE' } },
    ]);
    assert.ok(
      context.records.every((record) => record.request.headers['pond-auth-key'] === '[REDACTED]'),
      'the key header is redacted in the audit log',
    );
  });

  it('Teal: its own credential headers and PascalCase bodies', async () => {
    const server = Fastify();
    servers.push(server);
    let body: unknown;
    server.post('/api/v1/esims/enable', async (request, reply) => {
      if (request.headers['x-teal-key'] !== 'key' || request.headers['x-teal-secret'] !== 'secret')
        return reply.code(401).send({ ErrorMessage: 'bad credentials' });
      body = request.body;
      return reply
        .code(202)
        .send({ Success: true, Link: { OperationResultLink: { Href: '/api/v1/operations/1' } } });
    });
    const baseUrl = await server.listen({ port: 0, host: '127.0.0.1' });
    const adapter = tealAdapter(testKit());
    const client = clientOf(
      adapter,
      testAccount(adapter, {
        baseUrl,
        credentials: { apiKey: 'key', apiSecret: 'secret' },
        settings: { apiKeyHeader: 'X-Teal-Key', apiSecretHeader: 'X-Teal-Secret', bodyCase: 'pascal' },
      }),
    ) as TealClient;
    const link = await client.write(
      { action: 'enable', entries: ['89049032000001000000000000000001'] },
      'r-1',
      auditedContext(),
    );
    assert.equal(link, `${baseUrl}/api/v1/operations/1`);
    assert.deepEqual(body, { Entries: ['89049032000001000000000000000001'] });
  });
});
