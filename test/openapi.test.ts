import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { productRoutesOnly } from '../src/http/openapi.ts';
import { serviceForSuite } from './support/service.ts';

type Operation = {
  requestBody?: { content: Record<string, { schema: { example?: unknown } }> };
  responses: Record<string, { description?: string; content?: Record<string, { schema: unknown }> }>;
};
type Document = { info: { description: string }; paths: Record<string, Record<string, Operation>> };

describe('The OpenAPI document', () => {
  const test = serviceForSuite('sqlite');

  it('covers the product API only: a simulator route is hidden from it', () => {
    const simulator = productRoutesOnly({
      url: '/simulators/jasper/rws/api/v1/devices/:iccid',
      method: 'PUT',
      schema: { body: {} },
    } as never);
    assert.equal((simulator.schema as { hide?: boolean }).hide, true);
    const product = productRoutesOnly({
      url: '/api/v1/devices',
      method: 'GET',
      schema: {},
      openapiObject: { openapi: '3.0.3' },
    } as never);
    assert.notEqual((product.schema as { hide?: boolean }).hide, true);
  });

  it('documents the error answers of every product route, examples for each create, and no dead link', async () => {
    const answer = await test.api<Document>('GET', '/api/openapi.json', { key: null });
    assert.equal(answer.status, 200);
    const document = answer.body;
    const paths = Object.keys(document.paths);
    assert.ok(paths.length > 20, `${paths.length} paths`);
    assert.deepEqual(
      paths.filter((path) => !path.startsWith('/api/v1/') && !path.startsWith('/callbacks/')),
      [],
      'only the product API',
    );
    assert.doesNotMatch(answer.text, /API\.md/, 'no link to a file the server does not serve');

    for (const [path, operations] of Object.entries(document.paths)) {
      if (!path.startsWith('/api/v1/')) continue;
      for (const [method, operation] of Object.entries(operations)) {
        const where = `${method.toUpperCase()} ${path}`;
        for (const status of ['401', '403']) {
          const response = operation.responses[status];
          assert.ok(
            response?.content?.['application/json']?.schema,
            `${where} documents ${status} with its schema`,
          );
        }
        if (path.includes('{')) assert.ok(operation.responses['404'], `${where} documents 404`);
        if (operation.requestBody) assert.ok(operation.responses['422'], `${where} documents 422`);
      }
    }
  });

  it('documents the success answer of every product operation: a schema for each status it gives, no body for a 204', async () => {
    const document = (await test.api<Document>('GET', '/api/openapi.json', { key: null })).body;
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const where = `${method.toUpperCase()} ${path}`;
        const successes = Object.keys(operation.responses).filter((status) => status.startsWith('2'));
        assert.ok(successes.length > 0, `${where} documents its success answer`);
        for (const status of successes) {
          const { content } = operation.responses[status];
          if (status === '204') {
            assert.equal(content, undefined, `${where} 204 has no body`);
            continue;
          }
          const media = Object.entries(content ?? {});
          assert.ok(media.length > 0, `${where} ${status} documents its body`);
          for (const [type, { schema }] of media)
            assert.ok(schema, `${where} ${status} ${type} has a schema`);
        }
        // A create (201) that takes a JSON body shows an example of it.
        const body = operation.requestBody?.content['application/json']?.schema;
        if (successes.includes('201') && body) assert.ok(body.example, `${where} has an example`);
      }
    }
    for (const create of [
      '/api/v1/bulk-changes',
      '/api/v1/carrier-accounts',
      '/api/v1/webhooks',
      '/api/v1/billing-customers',
      '/api/v1/sites',
      '/api/v1/users',
      '/api/v1/api-keys',
    ]) {
      const body = document.paths[create]?.post?.requestBody?.content['application/json']?.schema;
      assert.ok(body?.example, `POST ${create} has an example`);
    }
    const example = document.paths['/api/v1/bulk-changes'].post.requestBody!.content['application/json']
      .schema.example as Record<string, unknown>;
    // The example is a request the API takes: dry-run it against nothing but the schema.
    assert.equal(example.changeType, 'status_update');
    assert.equal(example.skipAlreadyInTarget, true);
  });
});
