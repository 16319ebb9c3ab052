import type { FastifyReply, FastifyRequest } from 'fastify';

/** Closes the connection with a 408 in the API's error shape; the rest of the body is never read. */
function refuse(request: FastifyRequest, reply: FastifyReply): void {
  if (reply.sent || request.raw.complete) return;
  const body = JSON.stringify({
    error: { code: 'REQUEST_TIMEOUT', message: 'The request body did not arrive in time', details: [] },
  });
  const socket = request.raw.socket;
  socket.end(
    `HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json; charset=utf-8\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
  // Whatever the sender still writes is dropped: the socket goes once the answer is flushed.
  socket.destroySoon();
}

/**
 * Route hooks for small bodies: once the headers are in, the body must arrive within `ms`, or the
 * connection is closed with a 408. Node's request timeout is one number for the whole server and must
 * leave room for large uploads; a carrier callback or a portal form dribbled a byte every few seconds
 * must not hold a connection for minutes.
 */
export function bodyDeadline(ms: number): {
  onRequest: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  preValidation: (request: FastifyRequest) => Promise<void>;
} {
  const timers = new WeakMap<FastifyRequest, NodeJS.Timeout>();
  return {
    onRequest: async (request, reply) => {
      const timer = setTimeout(() => refuse(request, reply), ms);
      timer.unref();
      timers.set(request, timer);
      request.raw.once('close', () => clearTimeout(timer));
    },
    // The body has been read (and parsed) by the time validation starts.
    preValidation: async (request) => {
      clearTimeout(timers.get(request));
    },
  };
}
