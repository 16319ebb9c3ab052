import { randomBytes, timingSafeEqual } from 'node:crypto';

export const SESSION_COOKIE = 'bulkchange_session';

/** How many sessions are kept, and how long one lives (`PORTAL_SESSION_*`). */
export interface SessionLimits {
  /** Sessions kept at most; past it, the one seen longest ago ends. */
  maxSessions: number;
  /** A session ends after this long without a request… */
  idleMs: number;
  /** …and in any case this long after sign-in. */
  maxAgeMs: number;
}

/**
 * What a session was signed in with, checked again on every request: the hash of an API key (never the
 * key) against the key table, or a portal user's id against the users.
 */
export type SessionCredential = { keyHash: string } | { userId: string };

export interface PortalSession {
  id: string;
  credential: SessionCredential;
  /** Sent back in every form and in the `x-csrf-token` header of scripted requests. */
  csrfToken: string;
  createdAt: number;
  lastSeenAt: number;
}

export const randomToken = () => randomBytes(32).toString('base64url');

/**
 * Portal sign-ins, in this process's memory (ADR 0007): the cookie holds a random id only. A restart
 * signs everyone out; several API processes need sticky sessions. Bounded: the map is kept in the
 * order sessions were last seen, so the idle ones are at its front, swept on every sign-in, and the
 * least recently seen goes when the cap is reached.
 */
export class SessionStore {
  readonly #sessions = new Map<string, PortalSession>();
  readonly #limits: SessionLimits;
  /** Called with the id of every session that ends, so what hangs off it can go too. */
  readonly #onEnd: (id: string) => void;

  constructor(limits: SessionLimits, onEnd: (id: string) => void = () => {}) {
    this.#limits = limits;
    this.#onEnd = onEnd;
  }

  get size(): number {
    return this.#sessions.size;
  }

  create(credential: SessionCredential, now = Date.now()): PortalSession {
    this.#sweep(now);
    while (this.#sessions.size >= this.#limits.maxSessions) {
      this.end(this.#sessions.keys().next().value!);
    }
    const session = {
      id: randomToken(),
      credential,
      csrfToken: randomToken(),
      createdAt: now,
      lastSeenAt: now,
    };
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
    // To the back: the map stays in the order sessions were last seen.
    this.#sessions.delete(session.id);
    this.#sessions.set(session.id, session);
    return session;
  }

  end(id: string): void {
    if (this.#sessions.delete(id)) this.#onEnd(id);
  }

  #expired(session: PortalSession, now: number): boolean {
    return now - session.lastSeenAt > this.#limits.idleMs || now - session.createdAt > this.#limits.maxAgeMs;
  }

  /** Ends idle sessions from the front; one past its absolute age is ended when it is next looked up. */
  #sweep(now: number): void {
    for (const session of this.#sessions.values()) {
      if (now - session.lastSeenAt <= this.#limits.idleMs) return;
      this.end(session.id);
    }
  }
}

/** Whether a token sent back is the one expected, in constant time (tokens have one length). */
export function sameToken(expected: string | undefined, sent: unknown): boolean {
  if (typeof sent !== 'string' || expected === undefined) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(sent);
  return a.length === b.length && timingSafeEqual(a, b);
}

export const csrfMatches = (session: PortalSession, sent: unknown): boolean =>
  sameToken(session.csrfToken, sent);

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
export function sessionCookie(
  value: string,
  options: { secure: boolean; clear?: boolean; maxAgeMs: number },
): string {
  return cookie(SESSION_COOKIE, options.clear ? '' : value, {
    path: '/portal',
    secure: options.secure,
    maxAgeSeconds: options.clear ? 0 : Math.floor(options.maxAgeMs / 1000),
  });
}

export function cookie(
  name: string,
  value: string,
  options: { path: string; secure: boolean; maxAgeSeconds: number },
): string {
  return [
    `${name}=${encodeURIComponent(value)}`,
    `Path=${options.path}`,
    'HttpOnly',
    'SameSite=Strict',
    ...(options.secure ? ['Secure'] : []),
    `Max-Age=${options.maxAgeSeconds}`,
  ].join('; ');
}
