import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { ZodError } from 'zod';
import { AppError, type ErrorDetail } from '../core/errors.ts';
import { problemList } from './components/forms.ts';
import { href, html } from './html.ts';
import { page, sendHtml } from './layout.ts';

interface Problem {
  status: number;
  message: string;
  details: ErrorDetail[];
}

const titles: Record<number, string> = {
  403: 'Not allowed',
  404: 'Not found',
  409: 'Not possible now',
  413: 'File too large',
  422: 'Cannot do that',
};

function problemOf(error: FastifyError | Error): Problem {
  if (error instanceof AppError)
    return { status: error.statusCode, message: error.message, details: error.details };
  if (hasZodFastifySchemaValidationErrors(error)) {
    const details = error.validation.map((issue) => ({
      field: issue.instancePath.split('/').filter(Boolean).join('.') || error.validationContext,
      code: 'INVALID_FIELD' as const,
      message: issue.message ?? 'is invalid',
    }));
    return { status: 422, message: 'The request is invalid', details };
  }
  if (error instanceof ZodError) {
    const details = error.issues.map((issue) => ({
      field: issue.path.join('.'),
      code: 'INVALID_FIELD' as const,
      message: issue.message,
    }));
    return { status: 422, message: 'The form is invalid', details };
  }
  const status = (error as FastifyError).statusCode ?? 500;
  if (status >= 400 && status < 500) return { status, message: error.message, details: [] };
  return { status: 500, message: 'Something went wrong on our side; it has been logged.', details: [] };
}

function sendProblem(request: FastifyRequest, reply: FastifyReply, problem: Problem) {
  const wantsPage = request.method === 'GET' && !request.url.includes('/events');
  if (problem.status === 401 && wantsPage) {
    return reply.redirect(href('/portal/sign-in', { next: request.url }), 303);
  }
  if (problem.status === 401) return reply.status(401).type('text/plain').send('Sign in first');
  return sendHtml(
    reply,
    page({
      title: titles[problem.status] ?? 'Error',
      user: request.portalUser,
      body: html`<h1>${titles[problem.status] ?? 'Error'}</h1>
${problemList(problem.message, problem.details)}
<p><a href="/portal/bulk-changes">Back to the bulk changes</a></p>`,
    }),
    problem.status,
  );
}

/** Portal errors are pages, never the API's JSON; a missing session sends the browser to sign in. */
export function installPortalErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const problem = problemOf(error);
    if (problem.status >= 500) request.log.error({ err: error }, 'portal error');
    return sendProblem(request, reply, problem);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(request, reply, { status: 404, message: 'There is no such page.', details: [] }),
  );
}
