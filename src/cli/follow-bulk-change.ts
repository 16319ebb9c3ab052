import { setTimeout as sleep } from 'node:timers/promises';
import { pageOf } from '../shared/answers.ts';
import {
  type BulkChangeAnswer,
  bulkChangeSchema,
  type ChangeAnswer,
  changeSchema,
  isFollowUpOf,
  type Progress,
  progressSchema,
} from './api-answers.ts';
import { type ApiClient, expectAnswer, expectOk, parseJson } from './api-client.ts';
import { CliError, UnreachableError } from './cli-error.ts';
import { readServerSentEvents, type ServerSentEvent } from './server-sent-events.ts';

/** How long a dropped event stream (a server restart, a proxy timeout) is tried again before giving up. */
const RECONNECT_FOR_MS = 60_000;
const RECONNECT_DELAY_MS = 1_000;

/**
 * Follows `GET /bulk-changes/{id}/events` until its `done` event and returns that last progress.
 * Every `progress` event goes to `onProgress`. A stream that drops before `done` is opened again, for
 * up to a minute after the last event; a server never reached at all fails at once.
 */
export async function followProgress(
  client: ApiClient,
  id: string,
  onProgress: (progress: Progress) => void,
): Promise<Progress> {
  const path = `/api/v1/bulk-changes/${encodeURIComponent(id)}/events`;
  let lastHeard: number | undefined;
  for (;;) {
    let problem = 'the stream ended before its done event';
    try {
      for await (const event of readServerSentEvents(await client.stream(path))) {
        const progress = progressOf(event);
        if (!progress) continue;
        lastHeard = Date.now();
        if (event.event === 'done') return progress;
        onProgress(progress);
      }
    } catch (error) {
      if (!isDrop(error) || lastHeard === undefined) throw error;
      problem = (error as Error).message;
    }
    if (lastHeard === undefined || Date.now() - lastHeard > RECONNECT_FOR_MS)
      throw new CliError(`Lost the progress of bulk change ${id}: ${problem}`);
    await sleep(RECONNECT_DELAY_MS);
  }
}

function progressOf(event: ServerSentEvent): Progress | undefined {
  if (event.event !== 'progress' && event.event !== 'done') return undefined;
  const parsed = progressSchema.safeParse(parseJson(event.data));
  if (!parsed.success) throw new CliError(`Unexpected ${event.event} event: ${event.data.slice(0, 300)}`);
  return parsed.data;
}

/** Could not connect, or the connection broke mid-stream (undici's UND_ERR_* and the socket's E* codes). */
const isDrop = (error: unknown) =>
  error instanceof UnreachableError ||
  (error instanceof Error && /^(UND_ERR_|E[A-Z]+$)/.test((error as Error & { code?: string }).code ?? ''));

/** Every failed row of the bulk change, page after page. */
export async function failedRows(client: ApiClient, id: string): Promise<ChangeAnswer[]> {
  const rows: ChangeAnswer[] = [];
  let cursor: string | null = null;
  do {
    const path: string =
      `/api/v1/bulk-changes/${encodeURIComponent(id)}/changes?status=failed&limit=1000` +
      (cursor ? `&cursor=${encodeURIComponent(cursor)}` : '');
    const page = expectOk(await client.get(path), pageOf(changeSchema), `GET ${path}`);
    rows.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return rows;
}

/** The bulk change as it is now (`GET /bulk-changes/{id}`); an unknown id is refused (exit 1). */
export async function getBulkChange(client: ApiClient, id: string): Promise<BulkChangeAnswer> {
  const path = `/api/v1/bulk-changes/${encodeURIComponent(id)}`;
  return expectAnswer(await client.get(path), 200, bulkChangeSchema, `GET ${path}`);
}

/** The follow-up `change` started when it finished (a new service's customer assignment), if any. */
export async function followUpOf(
  client: ApiClient,
  change: BulkChangeAnswer,
): Promise<BulkChangeAnswer | undefined> {
  if (!change.linkedId) return undefined;
  const linked = await getBulkChange(client, change.linkedId);
  return isFollowUpOf(linked, change) ? linked : undefined;
}
