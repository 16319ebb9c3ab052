import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { z } from 'zod';
import type { SimResponse } from '../../simulator-kit/definition.ts';
import type { WallClock } from '../../simulator-kit/scheduler.ts';
import { gatewayFault, m2mError, thingSpaceErrorCodes, thingSpaceGatewayCodes } from './errors.ts';

export interface ThingSpaceAuthOptions {
  /** OAuth client id → secret (HTTP Basic on the token endpoint). */
  clients: Record<string, string>;
  /** UWS username → password (session login). */
  users: Record<string, string>;
  accessTokenTtlMs: number;
  sessionIdleMs: number;
  /** Consecutive failed logins that lock a username; documented as 5. */
  maxLoginFailures: number;
}

interface AccessToken {
  clientId: string;
  expiresAt: number;
}

interface Session {
  username: string;
  lastUsedAt: number;
  expired: boolean;
}

const loginSchema = z.object({ username: z.string(), password: z.string() });
const tokenFormSchema = z.object({
  grant_type: z.string().optional(),
  scope: z.string().optional(),
  token: z.string().optional(),
});
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const scope = 'am_application_scope default';

/**
 * The two ThingSpace tokens (carrier-apis §1.2): an OAuth client-credentials access token (1 hour; asking
 * again within the hour returns the same one) and a VZ-M2M session token (expires after 20 minutes
 * without use, renewed by every call), plus the lock of a username after 5 consecutive failed logins.
 */
export class ThingSpaceAuth {
  readonly #options: ThingSpaceAuthOptions;
  readonly #clock: WallClock;
  readonly #tokens = new Map<string, AccessToken>();
  readonly #currentToken = new Map<string, string>();
  readonly #sessions = new Map<string, Session>();
  readonly #failures = new Map<string, number>();

  constructor(options: ThingSpaceAuthOptions, clock: WallClock) {
    this.#options = options;
    this.#clock = clock;
  }

  /** `POST /api/ts/v1/oauth2/token`: mint (or return the current) token, or revoke one (`token=`). */
  token(headers: IncomingHttpHeaders, body: unknown): SimResponse {
    const clientId = this.#basicClient(headers.authorization);
    if (clientId === undefined) {
      return oauthError(401, 'invalid_client', 'Required OAuth credentials not provided');
    }
    if (clientId === null) return oauthError(401, 'invalid_client', 'Client Authentication failed.');
    const form = tokenFormSchema.safeParse(body ?? {});
    if (!form.success) return oauthError(400, 'invalid_request', 'Malformed token request');
    if (form.data.token !== undefined) {
      const revoked = this.#tokens.get(form.data.token);
      if (revoked?.clientId === clientId) revoked.expiresAt = Number.NEGATIVE_INFINITY;
      return { status: 200, body: {} };
    }
    if (form.data.grant_type === undefined) {
      return oauthError(400, 'invalid_request', 'Missing or invalid grant_type parameter');
    }
    if (form.data.grant_type !== 'client_credentials') {
      return oauthError(400, 'unsupported_grant_type', 'Missing or invalid grant_type parameter');
    }
    const now = this.#clock();
    let token = this.#currentToken.get(clientId);
    let record = token === undefined ? undefined : this.#tokens.get(token);
    if (token === undefined || record === undefined || record.expiresAt <= now) {
      token = randomUUID();
      record = { clientId, expiresAt: now + this.#options.accessTokenTtlMs };
      this.#tokens.set(token, record);
      this.#currentToken.set(clientId, token);
    }
    return {
      status: 200,
      body: {
        access_token: token,
        scope,
        token_type: 'Bearer',
        expires_in: Math.max(0, Math.floor((record.expiresAt - now) / 1000)),
      },
    };
  }

  /** The gateway's check of `Authorization: Bearer …` on every M2M call; undefined when it passes. */
  checkAccessToken(headers: IncomingHttpHeaders): SimResponse | undefined {
    const bearer = /^Bearer\s+(\S+)$/i.exec(headers.authorization ?? '');
    if (bearer === null) {
      return gatewayFault(
        401,
        thingSpaceGatewayCodes.missingCredentials,
        'Missing Credentials',
        'Required OAuth credentials not provided. Make sure your API invocation call has a header: ' +
          '"Authorization: Bearer ACCESS_TOKEN"',
        { 'www-authenticate': 'OAuth2 realm="ThingSpace", error="invalid_request"' },
      );
    }
    const record = this.#tokens.get(bearer[1]);
    if (record === undefined || record.expiresAt <= this.#clock()) {
      return gatewayFault(
        401,
        thingSpaceGatewayCodes.invalidCredentials,
        'Invalid Credentials',
        'Access failure for API: /api/m2m/v1, version: v1 status: (900901) - Invalid Credentials. ' +
          'Make sure you have given the correct access token',
        { 'www-authenticate': 'OAuth2 realm="ThingSpace", error="invalid_token"' },
      );
    }
    return undefined;
  }

  /** `POST /api/m2m/v1/session/login`, after the access token was checked. */
  login(body: unknown): SimResponse {
    if (body === undefined || body === null) {
      return m2mError(thingSpaceErrorCodes.requestUndefined, 'The request message is empty');
    }
    const credentials = loginSchema.safeParse(body);
    if (!credentials.success) {
      return m2mError(thingSpaceErrorCodes.unexpectedError, 'username and password are required');
    }
    const { username, password } = credentials.data;
    const failures = this.#failures.get(username) ?? 0;
    if (failures >= this.#options.maxLoginFailures) {
      return m2mError(
        thingSpaceErrorCodes.loginLocked,
        `The contact record of ${username} is locked after ${this.#options.maxLoginFailures} failed ` +
          'login attempts. Contact Verizon support to unlock it.',
      );
    }
    const valid = Object.hasOwn(this.#options.users, username) && this.#options.users[username] === password;
    if (!valid) {
      this.#failures.set(username, failures + 1);
      return m2mError(thingSpaceErrorCodes.loginFailed, 'Invalid username or password');
    }
    this.#failures.delete(username);
    const sessionToken = randomUUID();
    this.#sessions.set(sessionToken, { username, lastUsedAt: this.#clock(), expired: false });
    return {
      status: 200,
      body: { sessionToken, expiresIn: Math.floor(this.#options.sessionIdleMs / 1000) },
    };
  }

  /** `POST /api/m2m/v1/session/logout`, after both tokens were checked. */
  logout(headers: IncomingHttpHeaders): SimResponse {
    const sessionToken = sessionHeader(headers) ?? '';
    this.#sessions.delete(sessionToken);
    return { status: 200, body: { sessionToken } };
  }

  /** The `VZ-M2M-Token` check of every M2M call but login; a valid session is renewed. */
  checkSession(headers: IncomingHttpHeaders): SimResponse | undefined {
    const sessionToken = sessionHeader(headers);
    if (sessionToken === undefined || sessionToken === '') {
      return m2mError(thingSpaceErrorCodes.sessionTokenMissing, 'The VZ-M2M-Token header is missing');
    }
    if (!uuidPattern.test(sessionToken)) {
      return m2mError(thingSpaceErrorCodes.sessionTokenInvalid, 'The session token is not a valid GUID');
    }
    const session = this.#sessions.get(sessionToken);
    const now = this.#clock();
    if (session === undefined || session.expired || now - session.lastUsedAt > this.#options.sessionIdleMs) {
      if (session !== undefined) session.expired = true;
      return m2mError(
        thingSpaceErrorCodes.sessionTokenExpired,
        'Session token expired. Log in again to get a new session token.',
      );
    }
    session.lastUsedAt = now;
    return undefined;
  }

  /** The `expireTokens` fault: every access token and session issued so far stops working. */
  expireAll(): void {
    for (const record of this.#tokens.values()) record.expiresAt = Number.NEGATIVE_INFINITY;
    for (const session of this.#sessions.values()) session.expired = true;
  }

  /** Lifts the lock of one username, or of all; returns the usernames that were locked. */
  unlock(username?: string): string[] {
    const locked = [...this.#failures]
      .filter(([name, count]) => count >= this.#options.maxLoginFailures && (username ?? name) === name)
      .map(([name]) => name);
    if (username === undefined) this.#failures.clear();
    else this.#failures.delete(username);
    return locked;
  }

  reset(): void {
    this.#tokens.clear();
    this.#currentToken.clear();
    this.#sessions.clear();
    this.#failures.clear();
  }

  /** undefined: no Basic credentials; null: wrong ones; else the client id. */
  #basicClient(authorization: string | undefined): string | null | undefined {
    const basic = /^Basic\s+(\S+)$/i.exec(authorization ?? '');
    if (basic === null) return undefined;
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const clientId = decoded.slice(0, colon);
    const known = colon > 0 && Object.hasOwn(this.#options.clients, clientId);
    return known && this.#options.clients[clientId] === decoded.slice(colon + 1) ? clientId : null;
  }
}

const sessionHeader = (headers: IncomingHttpHeaders): string | undefined => {
  const value = headers['vz-m2m-token'];
  return Array.isArray(value) ? value[0] : value;
};

const oauthError = (status: number, error: string, description: string): SimResponse => ({
  status,
  body: { error, error_description: description },
});
