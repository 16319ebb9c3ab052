import type { FastifyReply } from 'fastify';
import type { BulkChangeView } from './views.ts';

const POLL_MS = 1000;
const terminal = new Set(['completed', 'completed_with_errors', 'failed', 'cancelled']);

/**
 * Server-Sent Events for one bulk change: `progress` whenever its counts or status change, `done`
 * when it has finished. Progress is read from the database, so any API process can serve it.
 */
export async function streamProgress(
  reply: FastifyReply,
  read: () => Promise<BulkChangeView>,
): Promise<void> {
  reply.hijack();
  const response = reply.raw;
  response.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  let closed = false;
  response.on('close', () => {
    closed = true;
  });
  let last = '';
  while (!closed) {
    const view = await read();
    const payload = JSON.stringify({ status: view.status, counts: view.counts });
    if (payload !== last) {
      response.write(`event: progress\ndata: ${payload}\n\n`);
      last = payload;
    }
    if (terminal.has(view.status)) {
      response.write(`event: done\ndata: ${payload}\n\n`);
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  response.end();
}
