import { randomBytes, timingSafeEqual } from 'node:crypto';

export const SESSION_COOKIE = 'bulkchange_session';

/** A session ends after this long without a request, and in any case after {@link MAX_AGE_MS}. */
const IDLE_MS = 2 * 60 * 60 * 1000;
const MAX_AGE_MS = 12 * 60 * 60 * 1000;

export interface PortalSession {
  id: string;
  /** The hash of the API key signed in with (never the key): checked against the key table on every request. */
  keyHash: string;
  /** Sent back in every form and in the `x-csrf-token` header of scripted requests. */
  csrfToken: string;
  createdAt: number;
  lastSeenAt: number;
}

const token = () => randomBytes(32).toString('base64url');

/**
 * Portal sign-ins, in this process's memory (ADR 0007): the cookie holds a random id only. A restart
 * signs everyone out; several API processes need sticky sessions.
 */
export class SessionStore {
  readonly #sessions = new Map<string, PortalSession>();
  /** Called with the id of every session that ends, so what hangs off it can go too. */
  readonly #onEnd: (id: string) => void;

  constructor(onEnd: (id: string) => void = () => {}) {
    this.#onEnd = onEnd;
  }

  create(keyHash: string, now = Date.now()): PortalSession {
    this.#sweep(now);
    const session = { id: token(), keyHash, csrfToken: token(), createdAt: now, lastSeenAt: now };
    this.#sessions.set(session.id, session);
    return session;
  }

  find(id: string | undefined, now = Date.now()): PortalSession | undefined {
    const session = id === undefined ? undefined : this.#sessions.get(id);
    if (!session) return undefined;
    if (this.#expired(session, now)) {
      this.end(session.id);
      return undefined;
    }
    session.lastSeenAt = now;
    return session;
  }

  end(id: string): void {
    if (this.#sessions.delete(id)) this.#onEnd(id);
  }

  #expired(session: PortalSession, now: number): boolean {
    return now - session.lastSeenAt > IDLE_MS || now - session.createdAt > MAX_AGE_MS;
  }

  #sweep(now: number): void {
    for (const session of this.#sessions.values()) if (this.#expired(session, now)) this.end(session.id);
  }
}

export function csrfMatches(session: PortalSession, sent: unknown): boolean {
  if (typeof sent !== 'string') return false;
  const expected = Buffer.from(session.csrfToken);
  const actual = Buffer.from(sent);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** A cookie's value; a malformed one (bad percent-encoding) is as good as none: the browser is signed out. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key !== name) continue;
    try {
      return decodeURIComponent(value.join('='));
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** HttpOnly and SameSite=Strict always; Secure when the portal is reached over HTTPS. */
export function sessionCookie(value: string, options: { secure: boolean; clear?: boolean }): string {
  return [
    `${SESSION_COOKIE}=${options.clear ? '' : encodeURIComponent(value)}`,
    'Path=/portal',
    'HttpOnly',
    'SameSite=Strict',
    ...(options.secure ? ['Secure'] : []),
    ...(options.clear ? ['Max-Age=0'] : [`Max-Age=${MAX_AGE_MS / 1000}`]),
  ].join('; ');
}
