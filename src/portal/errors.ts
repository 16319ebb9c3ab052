import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type Problem, problemOf } from '../core/problem.ts';
import { problemList } from './components/forms.ts';
import { href, html } from './html.ts';
import { page, sendHtml } from './layout.ts';

const titles: Record<number, string> = {
  403: 'Not allowed',
  404: 'Not found',
  409: 'Not possible now',
  413: 'File too large',
  422: 'Cannot do that',
  429: 'Too many attempts',
};

function sendProblem(request: FastifyRequest, reply: FastifyReply, problem: Problem) {
  const wantsPage = request.method === 'GET' && !request.url.includes('/events');
  if (problem.status === 401 && wantsPage) {
    return reply.redirect(href('/portal/sign-in', { next: request.url }), 303);
  }
  if (problem.status === 401) return reply.status(401).type('text/plain').send('Sign in first');
  const message =
    problem.status >= 500 ? 'Something went wrong on our side; it has been logged.' : problem.message;
  reply.headers(problem.headers);
  return sendHtml(
    reply,
    page({
      title: titles[problem.status] ?? 'Error',
      user: request.portalUser,
      body: html`<h1>${titles[problem.status] ?? 'Error'}</h1>
${problemList(message, problem.details)}
<p><a href="/portal/bulk-changes">Back to the bulk changes</a></p>`,
    }),
    problem.status,
  );
}

/**
 * Portal errors are pages, never the API's JSON; what an error means (status, message, details) is
 * decided once, for the API and the portal, by `core/problem.ts`. A missing session sends the browser
 * to sign in.
 */
export function installPortalErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error, request, reply) => {
    const problem = problemOf(error);
    if (problem.status >= 500) request.log.error({ err: error }, 'portal error');
    return sendProblem(request, reply, problem);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(request, reply, {
      status: 404,
      code: 'NOT_FOUND',
      message: 'There is no such page.',
      details: [],
      headers: {},
    }),
  );
}
