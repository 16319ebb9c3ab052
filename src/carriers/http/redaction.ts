/**
 * Secrets never reach the audit log (DESIGN §2.8): header values, body fields, URL query parameters and
 * credential-looking strings are replaced by {@link REDACTED} before an audit record is built.
 */

export const REDACTED = '[REDACTED]';

/** 64 KiB: the most of one request or response body kept in an audit record. */
export const AUDIT_MAX_BYTES = 64 * 1024;

const SENSITIVE_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie']);
const SENSITIVE_HEADER_PART = /token|secret|key|password|auth/i;
/** Body keys (and URL query parameter names) whose values are secrets. */
export const SENSITIVE_KEY = /pass(word)?|secret|token|api[-_]?key|authorization|credential/i;

/**
 * `Basic <base64>` / `Bearer <token>` credentials, and bare JWTs. The credential part must be ≥ 8 token
 * characters and contain a digit, one of `+/=._~-`, or an upper-case letter after its first character,
 * so that prose such as "Basic connectivity" or a rate plan named "Basic IoT" survives.
 */
const CREDENTIAL = /\b(?:Basic|Bearer)\s+([A-Za-z0-9._~+/-]{8,}=*)/gi;
const JWT = /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g;

const looksLikeCredential = (token: string): boolean =>
  /[0-9+/=._~-]/.test(token) || /[A-Z]/.test(token.slice(1));

/** Replaces credential-looking parts of a string (`Bearer …`, `Basic …`, JWTs). */
export const redactString = (text: string): string => {
  if (text.length < 8) return text;
  return text
    .replace(CREDENTIAL, (match, token: string) => (looksLikeCredential(token) ? REDACTED : match))
    .replace(JWT, REDACTED);
};

export type HeaderInput = Readonly<
  Record<string, string | number | boolean | readonly string[] | null | undefined>
>;

/**
 * A copy of `headers` (names kept as given, multi-valued headers joined with `, `, empty ones dropped)
 * where the values of `authorization`, `proxy-authorization`, `cookie`, `set-cookie` and of any header
 * whose name contains token / secret / key / password / auth are {@link REDACTED}; other values have
 * credential-looking parts redacted.
 */
export const redactHeaders = (headers: HeaderInput | undefined | null): Record<string, string> => {
  const out: Record<string, string> = {};
  if (!headers) return out;
  for (const [name, raw] of Object.entries(headers)) {
    if (raw === undefined || raw === null) continue;
    const value = Array.isArray(raw) ? raw.join(', ') : String(raw);
    const lower = name.toLowerCase();
    out[name] =
      SENSITIVE_HEADERS.has(lower) || SENSITIVE_HEADER_PART.test(lower) ? REDACTED : redactString(value);
  }
  return out;
};

const MAX_DEPTH = 64;

const redactInner = (value: unknown, depth: number, seen: WeakSet<object>): unknown => {
  if (typeof value === 'string') return redactString(value);
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'bigint') return value.toString();
    if (typeof value === 'function' || typeof value === 'symbol') return undefined;
    return value;
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (ArrayBuffer.isView(value)) return `[binary ${value.byteLength} bytes]`;
  if (value instanceof URLSearchParams) return redactInner(Object.fromEntries(value), depth, seen);
  if (seen.has(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return '[Too deep]';
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => redactInner(item, depth + 1, seen) ?? null);
    if (value instanceof Map) return redactInner(Object.fromEntries(value), depth, seen);
    if (value instanceof Set) return redactInner([...value], depth, seen);
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (SENSITIVE_KEY.test(key) && item !== null && item !== undefined) out[key] = REDACTED;
      else {
        const copy = redactInner(item, depth + 1, seen);
        if (copy !== undefined) out[key] = copy;
      }
    }
    return out;
  } finally {
    seen.delete(value);
  }
};

/**
 * A deep, JSON-safe copy of `value` where every object key matching {@link SENSITIVE_KEY} has its value
 * (unless null / undefined) replaced by {@link REDACTED}, and credential-looking strings are redacted.
 * Dates become ISO strings, binary data a `[binary N bytes]` marker, `URLSearchParams` / `Map` plain
 * objects, cycles `[Circular]`. The input is never modified.
 */
export const redactBody = (value: unknown): unknown => redactInner(value, 0, new WeakSet());

/**
 * The URL without user info, with the values of secret-looking query parameters ({@link SENSITIVE_KEY},
 * or names containing `key`/`auth`/`sig`) redacted. Unparseable input is returned with credentials
 * patterns redacted.
 */
export const redactUrl = (url: string | URL): string => {
  let parsed: URL;
  try {
    parsed = new URL(String(url));
  } catch {
    return redactString(String(url));
  }
  parsed.username = '';
  parsed.password = '';
  for (const name of new Set(parsed.searchParams.keys())) {
    if (SENSITIVE_KEY.test(name) || /key|auth|sig/i.test(name)) {
      const count = parsed.searchParams.getAll(name).length;
      parsed.searchParams.delete(name);
      for (let i = 0; i < count; i++) parsed.searchParams.append(name, REDACTED);
    }
  }
  return parsed.toString();
};

/**
 * `text` if it fits in `max` UTF-8 bytes; otherwise its longest prefix (never splitting a character)
 * followed by a `…[truncated N bytes]` marker, the whole fitting in `max` bytes.
 */
export const truncateForAudit = (text: string, max = AUDIT_MAX_BYTES): string => {
  // Fast path: a string of n UTF-16 units takes at most 3n UTF-8 bytes.
  if (text.length * 3 <= max) return text;
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= max) return text;
  const marker = (dropped: number) => `…[truncated ${dropped} bytes]`;
  // The marker's own length depends on the number dropped; size it for the worst case.
  const room = Math.max(0, max - Buffer.byteLength(marker(bytes.length)));
  let end = room;
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--; // do not cut inside a UTF-8 sequence
  const kept = bytes.subarray(0, end).toString('utf8');
  return kept + marker(bytes.length - end);
};

/**
 * A body as stored in an audit record: redacted ({@link redactBody}); when its JSON form is larger than
 * `max` bytes, the truncated JSON text instead (a string).
 */
export const redactForAudit = (value: unknown, max = AUDIT_MAX_BYTES): unknown => {
  if (value === undefined || value === null) return null;
  const redacted = redactBody(value);
  if (typeof redacted === 'string') return truncateForAudit(redacted, max);
  const json = JSON.stringify(redacted) ?? 'null';
  if (json.length * 3 <= max || Buffer.byteLength(json) <= max) return redacted;
  return truncateForAudit(json, max);
};
