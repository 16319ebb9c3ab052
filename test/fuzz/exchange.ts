import { connect } from 'node:net';
import { type Dispatcher, request } from 'undici';
import type { FuzzRequest } from './routes.ts';

/** What came back: the status (0 when nothing did), the content type, and enough of the body to judge. */
export interface Answer {
  status: number;
  contentType: string;
  body: string;
  /** Why there was no answer: a timeout or a broken connection. */
  failure?: string;
}

const ANSWER_TIMEOUT_MS = 20_000;
const KEPT_BODY_CHARS = 4_000;

/** Sends one generated request and reads its answer (only the head of an event stream). */
export async function exchange(url: string, item: FuzzRequest, dispatcher: Dispatcher): Promise<Answer> {
  if (item.raw) return rawExchange(url, item.raw);
  const headers: Record<string, string> = { ...item.headers };
  if (item.body?.contentType !== undefined) headers['content-type'] = item.body.contentType;
  try {
    const response = await request(url + item.target, {
      method: item.method as Dispatcher.HttpMethod,
      headers,
      body: item.body?.bytes,
      dispatcher,
      signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS),
    });
    const contentType = String(response.headers['content-type'] ?? '');
    if (contentType.startsWith('text/event-stream')) {
      response.body.on('error', () => {});
      response.body.destroy();
      return { status: response.statusCode, contentType, body: '' };
    }
    const text = await response.body.text();
    return { status: response.statusCode, contentType, body: text.slice(0, KEPT_BODY_CHARS) };
  } catch (error) {
    return {
      status: 0,
      contentType: '',
      body: '',
      failure: error instanceof Error ? error.message : String(error),
    };
  }
}

/** Bytes on a socket; the answer's status line, content type and body. */
function rawExchange(url: string, bytes: Buffer): Promise<Answer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(new Error('no answer')), ANSWER_TIMEOUT_MS);
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      const [head, ...rest] = text.split('\r\n\r\n');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
      const contentType = /\r\ncontent-type:\s*([^\r\n]*)/i.exec(head)?.[1] ?? '';
      // The first answer only: after an early answer, the rest of a malformed request may get its own.
      const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? Number.POSITIVE_INFINITY);
      resolve({
        status,
        contentType,
        body: rest.join('\r\n\r\n').slice(0, Math.min(length, KEPT_BODY_CHARS)),
        ...(status === 0 ? { failure: 'connection closed without an answer' } : {}),
      });
    });
    socket.end(bytes);
  });
}

/**
 * Whether an error answer keeps the documented shape (API.md §1): `{"error": {code, message,
 * details}}` and nothing else. API and callback errors must be that JSON; the portal's are pages (or
 * its plain "Sign in first"), and JSON there must be the same shape.
 */
export function shapeProblem(item: FuzzRequest, answer: Answer): string | undefined {
  if (answer.status < 400) return undefined;
  const path = item.target.split('?')[0];
  const json = answer.contentType.includes('json');
  if (json) {
    try {
      const parsed = JSON.parse(answer.body) as {
        error?: { code?: unknown; message?: unknown; details?: unknown };
      };
      const { error } = parsed;
      const keys = Object.keys(parsed);
      if (
        keys.length === 1 &&
        typeof error?.code === 'string' &&
        typeof error.message === 'string' &&
        Array.isArray(error.details)
      )
        return undefined;
      return `error body not in the documented shape: ${answer.body.slice(0, 200)}`;
    } catch {
      // The answer was cut at KEPT_BODY_CHARS, or is not JSON at all.
      return answer.body.length >= KEPT_BODY_CHARS
        ? undefined
        : `error body is not JSON: ${answer.body.slice(0, 200)}`;
    }
  }
  if (item.raw) return answer.body === '' ? undefined : `raw error answer not JSON: ${answer.contentType}`;
  const portal = path.startsWith('/portal');
  if (portal && (answer.contentType.startsWith('text/html') || answer.contentType.startsWith('text/plain')))
    return undefined;
  return `error answer is ${answer.contentType || 'untyped'}, not the JSON error shape`;
}
