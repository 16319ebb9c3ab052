import type { Db } from '../../db/database.ts';
import {
  discardSession,
  endLoginTurn,
  loginTurnHeld,
  readSession,
  takeLoginTurn,
} from './guards-repository.ts';
import type { LoginOutcome, LoginState, SessionStore } from './session-store.ts';

/** How a session is kept at rest: encrypted with the key that encrypts carrier credentials. */
export interface Sealer {
  seal(plaintext: string): string;
  /** Throws when the text was not sealed with this key. */
  open(sealed: string): string;
}

/** While another process holds the login turn, look again this often. */
const TURN_POLL_MS = 100;

export interface SharedSessionStoreDeps {
  db: Db;
  key: string;
  holder: string;
  sealer: Sealer;
}

/**
 * An account's login session and refused-login count shared by every process through PostgreSQL
 * (ADR 0014): the session is stored encrypted, one process at a time holds the login turn (a lease: a
 * process that dies logging in holds the others up until it runs out), and refusals are counted for the
 * whole deployment, so N processes cannot add up to the carrier's lock-out.
 */
export class SharedSessionStore implements SessionStore {
  readonly #deps: SharedSessionStoreDeps;

  constructor(deps: SharedSessionStoreDeps) {
    this.#deps = deps;
  }

  async read(generation: number): Promise<LoginState> {
    const row = await readSession(this.#deps.db, this.#deps.key, generation);
    return {
      session: row.sessionEncrypted === null ? null : this.#open(row.sessionEncrypted),
      version: row.version,
      refusedLogins: row.refusedLogins,
      superseded: generation < row.generation,
    };
  }

  async takeLoginTurn(
    generation: number,
    seen: LoginState,
    turnMs: number,
    signal?: AbortSignal,
  ): Promise<boolean> {
    const { db, key, holder } = this.#deps;
    await readSession(db, key, generation); // the account's row, for these credentials
    const request = { key, generation, holder, turnMs, seen };
    if (await takeLoginTurn(db, request)) return true;
    // Another process is logging in: its turn ends with a session, a refusal, or running out.
    while (await loginTurnHeld(db, key)) {
      signal?.throwIfAborted();
      await new Promise((resolve) => setTimeout(resolve, TURN_POLL_MS));
    }
    return false;
  }

  async endLogin(generation: number, outcome: LoginOutcome): Promise<void> {
    const { db, key, holder, sealer } = this.#deps;
    await endLoginTurn(db, {
      key,
      generation,
      holder,
      outcome: typeof outcome === 'object' ? { sessionEncrypted: sealer.seal(outcome.session) } : outcome,
    });
  }

  async discard(generation: number, version: number): Promise<void> {
    await discardSession(this.#deps.db, { key: this.#deps.key, generation, version });
  }

  /** A session sealed with another key (the key was changed) is no session: log in again. */
  #open(sealed: string): string | null {
    try {
      return this.#deps.sealer.open(sealed);
    } catch {
      return null;
    }
  }
}
