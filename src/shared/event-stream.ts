import type { FastifyReply } from 'fastify';
import { sleep } from './time.ts';

/** The media type of an event stream (the API documents its streams with it). */
export const EVENT_STREAM_CONTENT_TYPE = 'text/event-stream';

/** Sends one event; with `id`, a reconnecting client says where it stopped (`Last-Event-ID`). */
export type SendEvent = (event: string, data: unknown, id?: string) => void;

/**
 * A Server-Sent Events stream that polls: `poll` sends what changed and says whether to go on. State is
 * read from the database each time, so any API process can serve a stream.
 */
export async function pollingStream(
  reply: FastifyReply,
  options: { intervalMs: number; poll: (send: SendEvent) => Promise<boolean> },
): Promise<void> {
  reply.hijack();
  const response = reply.raw;
  response.writeHead(200, {
    // Headers set through the reply are not sent once it is taken over: the request's id is repeated.
    'x-request-id': reply.request.id,
    'content-type': `${EVENT_STREAM_CONTENT_TYPE}; charset=utf-8`,
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  // The client sees the stream open at once, even when the first event is a while coming.
  response.flushHeaders();
  const closed = new AbortController();
  response.on('close', () => closed.abort());
  const send: SendEvent = (event, data, id) => {
    response.write(
      `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`,
    );
  };
  try {
    while (!closed.signal.aborted && (await options.poll(send))) {
      await sleep(options.intervalMs, closed.signal);
    }
  } catch (error) {
    // The response has started: the error can only be logged, and the browser reconnects.
    reply.log.error({ err: error }, 'event stream failed');
  } finally {
    response.end();
  }
}
