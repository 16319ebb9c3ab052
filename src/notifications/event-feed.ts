import type { FastifyReply } from 'fastify';
import { eventsRepository } from '../bulk-changes/events-repository.ts';
import type { Db } from '../db/database.ts';
import { pollingStream } from '../shared/event-stream.ts';

const POLL_MS = 1_000;
/** An event committed up to this long after a later-numbered one (a slower transaction) is still sent. */
const LATE_COMMIT_MS = 5_000;
const PAGE = 500;

/**
 * A tenant's live event feed (Server-Sent Events): the same events webhooks deliver, read from the
 * outbox, so any API process serves it. Each event's `id` is its place in the tenant's stream: a client
 * that reconnects with `Last-Event-ID` gets what it missed. It is for dashboards; webhooks are the
 * durable channel (an event whose transaction commits more than a few seconds after a later one's is
 * not sent on a feed already past it).
 */
export class EventFeed {
  readonly #db: Db;

  constructor(db: Db) {
    this.#db = db;
  }

  async stream(reply: FastifyReply, tenantId: string, lastEventId?: number): Promise<void> {
    const events = eventsRepository(this.#db);
    const start = lastEventId ?? (await events.lastSeq(tenantId));
    let cursor = start;
    /** Events sent within the late-commit window, by place, with when. */
    const sent = new Map<number, number>();
    return pollingStream(reply, {
      intervalMs: POLL_MS,
      poll: async (send) => {
        const now = Date.now();
        for (const [seq, at] of sent) if (at < now - 2 * LATE_COMMIT_MS) sent.delete(seq);
        const late = await events.recent(tenantId, {
          fromSeq: start,
          toSeq: cursor,
          since: now - LATE_COMMIT_MS,
          limit: 10 * PAGE,
        });
        const fresh = [];
        for (
          let page = await events.after(tenantId, cursor, PAGE);
          ;
          page = await events.after(tenantId, cursor, PAGE)
        ) {
          fresh.push(...page);
          if (page.length > 0) cursor = page[page.length - 1].seq;
          if (page.length < PAGE) break;
        }
        for (const stored of [...late, ...fresh]) {
          if (sent.has(stored.seq)) continue;
          send(stored.event.type, stored.event, String(stored.seq));
          sent.set(stored.seq, now);
        }
        return true;
      },
    });
  }
}
