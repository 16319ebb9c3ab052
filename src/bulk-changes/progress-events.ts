import type { FastifyReply } from 'fastify';
import { pollingStream } from '../shared/event-stream.ts';
import type { BulkChangeView } from './views.ts';

const POLL_MS = 1000;
const terminal = new Set(['completed', 'completed_with_errors', 'failed', 'cancelled']);

/**
 * Server-Sent Events for one bulk change: `progress` whenever its counts or status change, `done`
 * when it has finished.
 */
export function streamProgress(reply: FastifyReply, read: () => Promise<BulkChangeView>): Promise<void> {
  let last = '';
  return pollingStream(reply, {
    intervalMs: POLL_MS,
    poll: async (send) => {
      const view = await read();
      const progress = { status: view.status, counts: view.counts };
      const text = JSON.stringify(progress);
      if (text !== last) {
        send('progress', progress);
        last = text;
      }
      if (!terminal.has(view.status)) return true;
      send('done', progress);
      return false;
    },
  });
}
