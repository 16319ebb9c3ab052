import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import { validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AnswerCheck } from '../config.ts';
import { answerSerializer, refuseUndocumentedSuccess } from './answer-serializer.ts';
import { installErrorHandler } from './errors.ts';

const site = z.object({ id: z.string(), name: z.string() });

/** A real Fastify app with the check, one route documented as `200` with `site`, answering `answer`. */
async function answerOf(check: AnswerCheck, answer: unknown, status = 200) {
  const app = Fastify({ logger: false }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(answerSerializer(check));
  if (check === 'strict') refuseUndocumentedSuccess(app);
  installErrorHandler(app);
  app.get('/sites/:id', { schema: { response: { 200: site } } }, async (_request, reply) =>
    reply.status(status as 200).send(answer as never),
  );
  const response = await app.inject({ method: 'GET', url: '/sites/1' });
  await app.close();
  return { status: response.statusCode, body: response.json() as Record<string, unknown> };
}

const errorCode = (body: Record<string, unknown>) => (body.error as { code: string; message: string }).code;

describe('Answers and their documented schemas (ADR 0058)', () => {
  const extra = { id: '1', name: 'Depot', secret: 's3' };

  it('off writes the answer as built: nothing checked, nothing dropped', async () => {
    assert.deepEqual(await answerOf('off', extra), { status: 200, body: extra });
  });

  it('strip drops what the schema does not name', async () => {
    assert.deepEqual(await answerOf('strip', extra), { status: 200, body: { id: '1', name: 'Depot' } });
  });

  it('strict refuses a field the schema does not name, naming it', async () => {
    const { status, body } = await answerOf('strict', extra);
    assert.equal(status, 500);
    assert.equal(errorCode(body), 'ANSWER_MISMATCH');
    assert.match((body.error as { message: string }).message, /GET \/sites\/:id .*\$\.secret/);
  });

  it('strict refuses an answer that breaks the schema, and a success status the route does not document', async () => {
    const wrong = await answerOf('strict', { id: 1, name: 'Depot' });
    assert.equal(errorCode(wrong.body), 'ANSWER_MISMATCH');
    const undocumented = await answerOf('strict', { id: '1', name: 'Depot' }, 201);
    assert.equal(undocumented.status, 500);
    assert.match((undocumented.body.error as { message: string }).message, /status 201 is not documented/);
  });

  it('strict lets a matching answer through unchanged', async () => {
    assert.deepEqual(await answerOf('strict', { id: '1', name: 'Depot' }), {
      status: 200,
      body: { id: '1', name: 'Depot' },
    });
  });
});
