import type { SimResponse } from '../../simulator-kit/definition.ts';

/**
 * Teal's writes are idempotent by the client's `requestId`: a retry of an accepted write (same path, same
 * requestId) gets the original answer and is not applied again; the same requestId with another body is a
 * conflict. Refused writes are not remembered, so a corrected retry may reuse its requestId.
 */
export class RequestIdLedger {
  readonly #accepted = new Map<string, { body: string; response: SimResponse }>();

  /**
   * The original answer, 'conflict', or `execute()`'s answer (remembered when it is a success).
   * `body` must be canonical: the parsed body, whose keys follow the schema.
   */
  once(path: string, requestId: string, body: unknown, execute: () => SimResponse): SimResponse | 'conflict' {
    const key = `${path} ${requestId}`;
    const fingerprint = JSON.stringify(body);
    const earlier = this.#accepted.get(key);
    if (earlier !== undefined) return earlier.body === fingerprint ? earlier.response : 'conflict';
    const response = execute();
    if (response.status < 300) this.#accepted.set(key, { body: fingerprint, response });
    return response;
  }

  clear(): void {
    this.#accepted.clear();
  }
}
