import { z } from 'zod';
import { CarrierError } from '../../core/carrier-error.ts';
import type { CallContext } from '../http/call.ts';
import type { CarrierHttpClient } from '../http/client.ts';

const tokenSchema = z
  .object({ access_token: z.string().min(1), expires_in: z.coerce.number().positive() })
  .loose();
const loginSchema = z.object({ sessionToken: z.string().min(1) }).loose();

/** ThingSpace locks the contact after 5 failed logins; we stop well before that. */
export const MAX_FAILED_LOGINS = 3;
/** Renew the OAuth token this long before it expires. */
const TOKEN_MARGIN_MS = 60_000;

export interface ThingSpaceLogin {
  clientId: string;
  clientSecret: string;
  username: string;
  password: string;
}

/**
 * The two ThingSpace tokens (carrier-apis §1.2), cached per carrier account and shared by all its
 * work: an OAuth client-credentials token (1 h) and an M2M session (idle expiry 20 min). At most one
 * login is in flight at a time, and after MAX_FAILED_LOGINS refusals in a row no further login is
 * tried until the account's credentials change (the client is then rebuilt).
 */
export class ThingSpaceSession {
  readonly #http: CarrierHttpClient;
  readonly #login: ThingSpaceLogin;
  #accessToken: { value: string; expiresAt: number } | undefined;
  #sessionToken: string | undefined;
  #inFlight: Promise<{ accessToken: string; sessionToken: string }> | undefined;
  #failedLogins = 0;

  constructor(http: CarrierHttpClient, login: ThingSpaceLogin) {
    this.#http = http;
    this.#login = login;
  }

  /** The headers of an M2M call, logging in first when needed. */
  async headers(context: CallContext): Promise<Record<string, string>> {
    const { accessToken, sessionToken } = await this.#tokens(context);
    return { authorization: `Bearer ${accessToken}`, 'vz-m2m-token': sessionToken };
  }

  /** The carrier said the session expired: the next call logs in again. */
  expireSession(): void {
    this.#sessionToken = undefined;
  }

  /** The gateway refused the bearer token: the next call fetches a new one, and a new session. */
  expireAccessToken(): void {
    this.#accessToken = undefined;
    this.#sessionToken = undefined;
  }

  #tokens(context: CallContext) {
    const access = this.#accessToken;
    if (access && access.expiresAt > Date.now() && this.#sessionToken) {
      return Promise.resolve({ accessToken: access.value, sessionToken: this.#sessionToken });
    }
    this.#inFlight ??= this.#renew(context).finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  async #renew(context: CallContext) {
    if (this.#failedLogins >= MAX_FAILED_LOGINS) {
      throw new CarrierError({
        kind: 'auth',
        carrierCode: 'LOGIN_SUSPENDED',
        message: `ThingSpace refused ${this.#failedLogins} logins in a row; no more are tried (5 would lock the contact) until the account's credentials are updated`,
      });
    }
    const cached = this.#accessToken;
    const access = cached && cached.expiresAt > Date.now() ? cached : await this.#fetchAccessToken(context);
    this.#accessToken = access;
    try {
      const response = await this.#http.send(
        {
          action: 'login',
          method: 'POST',
          path: '/api/m2m/v1/session/login',
          headers: { authorization: `Bearer ${access.value}` },
          body: { username: this.#login.username, password: this.#login.password },
          responseSchema: loginSchema,
        },
        context,
      );
      this.#failedLogins = 0;
      this.#sessionToken = response.body.sessionToken;
      return { accessToken: access.value, sessionToken: response.body.sessionToken };
    } catch (error) {
      if (!(error instanceof CarrierError) || error.kind === 'transient') throw error;
      // A 401 is the gateway refusing the bearer token, not the user's password: fetch a new token next time.
      if (error.httpStatus === 401) this.expireAccessToken();
      else this.#failedLogins++;
      throw new CarrierError({
        kind: 'auth',
        httpStatus: error.httpStatus,
        carrierCode: error.carrierCode,
        message: `ThingSpace login refused: ${error.message}`,
        cause: error,
      });
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
