import assert from 'node:assert/strict';

/** A small JSON-over-HTTP client for simulator tests: real requests, parsed answers. */
export interface TestResponse {
  status: number;
  headers: Headers;
  body: unknown;
}

export interface TestRequest {
  method?: string;
  /** Sent as JSON unless it is already a string (to send malformed bodies). */
  body?: unknown;
  headers?: Record<string, string>;
}

export const httpJson = async (url: string, request: TestRequest = {}): Promise<TestResponse> => {
  const hasBody = request.body !== undefined;
  const response = await fetch(url, {
    method: request.method ?? 'GET',
    headers: { ...(hasBody ? { 'content-type': 'application/json' } : {}), ...request.headers },
    body: !hasBody
      ? undefined
      : typeof request.body === 'string'
        ? request.body
        : JSON.stringify(request.body),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text === '' ? undefined : JSON.parse(text),
  };
};

/** Seeds lines through `POST /_sim/devices` of the simulator at `base`; fails unless it takes them. */
export const seedLines = async (base: string, lines: object[]): Promise<void> => {
  const seeded = await httpJson(`${base}/_sim/devices`, { method: 'POST', body: lines });
  assert.equal(seeded.status, 200, JSON.stringify(seeded.body));
};
