import { setTimeout as sleep } from 'node:timers/promises';
import { type ChangeAnswer, changeSchema, type Progress, pageSchema, progressSchema } from './api-answers.ts';
import { type ApiClient, expectOk, parseJson } from './api-client.ts';
import { CliError, UnreachableError } from './cli-error.ts';
import { readServerSentEvents, type ServerSentEvent } from './server-sent-events.ts';

/** Dropped event streams in a row tolerated (a server restart, a proxy timeout) before giving up. */
const MAX_DROPS = 5;
const RECONNECT_DELAY_MS = 1_000;

/**
 * Follows `GET /bulk-changes/{id}/events` until its `done` event and returns that last progress.
 * Every `progress` event goes to `onProgress`. A stream that drops before `done` is opened again.
 */
export async function followProgress(
  client: ApiClient,
  id: string,
  onProgress: (progress: Progress) => void,
): Promise<Progress> {
  const path = `/api/v1/bulk-changes/${encodeURIComponent(id)}/events`;
  let drops = 0;
  for (;;) {
    let problem = 'the stream ended before its done event';
    try {
      for await (const event of readServerSentEvents(await client.stream(path))) {
        const progress = progressOf(event);
        if (!progress) continue;
        drops = 0;
        if (event.event === 'done') return progress;
        onProgress(progress);
      }
    } catch (error) {
      if (!isDrop(error)) throw error;
      problem = (error as Error).message;
    }
    drops += 1;
    if (drops > MAX_DROPS) throw new CliError(`Lost the progress of bulk change ${id}: ${problem}`);
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
    const page = expectOk(await client.get(path), pageSchema(changeSchema), `GET ${path}`);
    rows.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return rows;
}
