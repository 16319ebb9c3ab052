/**
 * Where a carrier's login session is kept for an account, and how many logins were refused in a row
 * (ThingSpace: its two tokens, and the guard against the lock-out after 5 refused logins). In process
 * (`local-session-store.ts`) or in PostgreSQL, encrypted (`shared-session-store.ts`): then the whole
 * deployment logs in once, and the refusals are counted for all its workers together.
 *
 * `generation` names the credentials a caller logs in with (the account's version): a newer one starts
 * afresh (no session, no refusals); a caller with an older one is told it is superseded.
 */
export interface LoginState {
  /** The stored session (the store does not read it), or null. */
  session: string | null;
  /** Changes with every session stored or discarded: `discard` names the one it found stale. */
  version: number;
  /** Logins refused in a row with these credentials. */
  refusedLogins: number;
  /** The account's credentials changed since this caller's were loaded: it must not log in. */
  superseded: boolean;
}

/** How a login turn ended: a new session, a refusal (counted), or a failure that says nothing (not counted). */
export type LoginOutcome = { session: string } | 'refused' | 'failed';

export interface SessionStore {
  read(generation: number): Promise<LoginState>;
  /**
   * Takes the account's login turn: `true` when this caller may log in now (it must `endLogin`), or
   * `false` once another caller's turn has ended (read the state again). `seen` is the state the caller
   * read before asking: if a login ended since (a session stored or discarded, a refusal counted), the
   * turn is not given, so a login that finished between the read and the turn is not repeated. A turn
   * not ended within `turnMs` lapses (its holder died).
   */
  takeLoginTurn(generation: number, seen: LoginState, turnMs: number, signal?: AbortSignal): Promise<boolean>;
  endLogin(generation: number, outcome: LoginOutcome): Promise<void>;
  /** The carrier no longer accepts the session of `version`: forget it, unless it was replaced meanwhile. */
  discard(generation: number, version: number): Promise<void>;
}
