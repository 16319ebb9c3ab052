import { z } from 'zod';
import { CarrierError } from '../../core/carrier-error.ts';
import type { CallContext } from '../http/call.ts';
import type { CarrierHttpClient } from '../http/client.ts';
import type { SessionStore } from '../limits/session-store.ts';

const tokenSchema = z
  .object({ access_token: z.string().min(1), expires_in: z.coerce.number().positive() })
  .loose();
const loginSchema = z.object({ sessionToken: z.string().min(1) }).loose();
/** The two tokens as the store keeps them (encrypted, when it is the database). */
const storedTokensSchema = z.object({
  accessToken: z.string().min(1),
  accessExpiresAt: z.number(),
  sessionToken: z.string().min(1),
});
type Tokens = z.infer<typeof storedTokensSchema>;

/** ThingSpace locks the contact after 5 failed logins; we stop well before that. */
export const MAX_FAILED_LOGINS = 3;
/** Renew the OAuth token this long before it expires. */
const TOKEN_MARGIN_MS = 60_000;
/**
 * How long one login may take (a token and a login call, twice when the token is refused) before another caller may try: a caller that
 * died while logging in holds the others up this long at most.
 */
const LOGIN_TURN_MS = 45_000;
/** Access tokens one login tries: a token refused by the login (401) is replaced once. */
const LOGIN_TOKEN_TRIES = 2;
/** Rounds of "someone else is logging in, look again" before giving up on this call. */
const MAX_LOGIN_ROUNDS = 5;

export interface ThingSpaceLogin {
  clientId: string;
  clientSecret: string;
  username: string;
  password: string;
}

/**
 * The two ThingSpace tokens (carrier-apis §1.2): an OAuth client-credentials token (1 h) and an M2M
 * session (idle expiry 20 min), kept in the account's {@link SessionStore}: with shared guards, one login
 * serves every worker of the deployment. One caller at a time logs in (the store's login turn; within
 * this process, one caller goes to the store); the others wait for its tokens. After MAX_FAILED_LOGINS
 * refusals in a row, counted by the store for every worker together, no further login is tried until
 * the account's credentials change (a new `generation`).
 */
export class ThingSpaceSession {
  readonly #http: CarrierHttpClient;
  readonly #login: ThingSpaceLogin;
  readonly #store: SessionStore;
  readonly #generation: number;
  #tokens: { value: Tokens; version: number } | undefined;
  #inFlight: Promise<{ value: Tokens; version: number }> | undefined;

  constructor(http: CarrierHttpClient, login: ThingSpaceLogin, store: SessionStore, generation: number) {
    this.#http = http;
    this.#login = login;
    this.#store = store;
    this.#generation = generation;
  }

  /**
   * The headers of an M2M call, logging in first when needed, and the version of the tokens they carry:
   * the call names it to `expire` if the carrier refuses them.
   */
  async headers(context: CallContext): Promise<{ headers: Record<string, string>; version: number }> {
    const { value, version } = await this.#current(context);
    return {
      headers: { authorization: `Bearer ${value.accessToken}`, 'vz-m2m-token': value.sessionToken },
      version,
    };
  }

  /**
   * The carrier refused the tokens of `version` (the session or the bearer token expired): the next call
   * logs in again. Only those tokens are forgotten: a refusal that comes back after another call already
   * logged in again names old tokens, and must not throw away the new ones (one login per expiry,
   * however many calls met it).
   */
  async expire(version: number): Promise<void> {
    if (this.#tokens?.version === version) this.#tokens = undefined;
    await this.#store.discard(this.#generation, version);
  }

  async #current(context: CallContext): Promise<{ value: Tokens; version: number }> {
    const cached = this.#tokens;
    if (cached && usable(cached.value)) return cached;
    this.#inFlight ??= this.#obtain(context).finally(() => {
      this.#inFlight = undefined;
    });
    this.#tokens = await this.#inFlight;
    return this.#tokens;
  }

  /** Stored tokens, or a login: ours when we get the turn, another caller's when it ends first. */
  async #obtain(context: CallContext): Promise<{ value: Tokens; version: number }> {
    for (let round = 0; round < MAX_LOGIN_ROUNDS; round++) {
      const state = await this.#store.read(this.#generation);
      if (state.superseded) {
        throw new CarrierError({
          kind: 'transient',
          carrierCode: 'CREDENTIALS_CHANGED',
          message: "ThingSpace: the account's credentials changed; the call is tried again with the new ones",
        });
      }
      const stored = state.session === null ? undefined : parseTokens(state.session);
      if (stored && usable(stored)) return { value: stored, version: state.version };
      if (state.refusedLogins >= MAX_FAILED_LOGINS) {
        throw new CarrierError({
          kind: 'auth',
          carrierCode: 'LOGIN_SUSPENDED',
          message: `ThingSpace refused ${state.refusedLogins} logins in a row; no more are tried (5 would lock the contact) until the account's credentials are updated`,
        });
      }
      if (!(await this.#store.takeLoginTurn(this.#generation, state, LOGIN_TURN_MS, context.signal)))
        continue;
      let tokens: Tokens;
      try {
        tokens = await this.#logIn(context);
      } catch (error) {
        const refused = error instanceof CarrierError && error.kind === 'auth' && error.httpStatus !== 401;
        await this.#store.endLogin(this.#generation, refused ? 'refused' : 'failed');
        throw error;
      }
      await this.#store.endLogin(this.#generation, { session: JSON.stringify(tokens) });
      // Read back: the version that names these tokens for `discard`.
      const after = await this.#store.read(this.#generation);
      return { value: tokens, version: after.version };
    }
    throw new CarrierError({
      kind: 'transient',
      carrierCode: 'LOGIN_BUSY',
      message: 'ThingSpace: other workers kept logging in; the call is tried again later',
    });
  }

  /**
   * A new access token (ThingSpace hands out the current one again within its hour) and a session. A
   * login refused with 401 is the gateway refusing the access token, which can expire between the token
   * and the login: a fresh token and one more login. Refused again, the login fails.
   */
  async #logIn(context: CallContext): Promise<Tokens> {
    for (let attempt = 1; ; attempt++) {
      const token = await this.#fetchAccessToken(context);
      try {
        const response = await this.#http.send(
          {
            action: 'login',
            method: 'POST',
            path: '/api/m2m/v1/session/login',
            headers: { authorization: `Bearer ${token.value}` },
            body: { username: this.#login.username, password: this.#login.password },
            responseSchema: loginSchema,
          },
          context,
        );
        return {
          accessToken: token.value,
          accessExpiresAt: token.expiresAt,
          sessionToken: response.body.sessionToken,
        };
      } catch (error) {
        if (!(error instanceof CarrierError) || error.kind === 'transient') throw error;
        if (error.httpStatus === 401 && attempt < LOGIN_TOKEN_TRIES) continue;
        // A 401 is the gateway refusing the bearer token, not the user's password: not a refused login.
        throw new CarrierError({
          kind: 'auth',
          httpStatus: error.httpStatus,
          carrierCode: error.carrierCode,
          message: `ThingSpace login refused: ${error.message}`,
          cause: error,
        });
      }
    }
  }

  async #fetchAccessToken(context: CallContext) {
    const basic = Buffer.from(`${this.#login.clientId}:${this.#login.clientSecret}`).toString('base64');
    const response = await this.#http.send(
      {
        action: 'token',
        method: 'POST',
        path: '/api/ts/v1/oauth2/token',
        headers: { authorization: `Basic ${basic}` },
        body: new URLSearchParams({ grant_type: 'client_credentials' }),
        responseSchema: tokenSchema,
      },
      context,
    );
    return {
      value: response.body.access_token,
      expiresAt: Date.now() + response.body.expires_in * 1000 - TOKEN_MARGIN_MS,
    };
  }
}

const usable = (tokens: Tokens): boolean => tokens.accessExpiresAt > Date.now();

/** What the store holds, or undefined when it is not ours (written by another version: log in anew). */
const parseTokens = (session: string): Tokens | undefined => {
  try {
    const parsed = storedTokensSchema.safeParse(JSON.parse(session));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
};
