import { setTimeout as delay } from 'node:timers/promises';
import type { LoginOutcome, LoginState, SessionStore } from './session-store.ts';

interface Turn {
  until: number;
  ended: Promise<void>;
  end: () => void;
}

/** An account's login session and refused-login count in this process (embedded mode). */
export class LocalSessionStore implements SessionStore {
  #generation = Number.NEGATIVE_INFINITY;
  #session: string | null = null;
  #version = 0;
  #refused = 0;
  #turn: Turn | undefined;

  async read(generation: number): Promise<LoginState> {
    this.#follow(generation);
    return {
      session: this.#session,
      version: this.#version,
      refusedLogins: this.#refused,
      superseded: generation < this.#generation,
    };
  }

  async takeLoginTurn(
    generation: number,
    seen: LoginState,
    turnMs: number,
    signal?: AbortSignal,
  ): Promise<boolean> {
    this.#follow(generation);
    if (seen.version !== this.#version || seen.refusedLogins !== this.#refused) return false;
    const current = this.#turn;
    if (current && current.until > Date.now()) {
      await Promise.race([current.ended, delay(current.until - Date.now(), undefined, { signal })]);
      return false;
    }
    let end = () => {};
    const ended = new Promise<void>((resolve) => {
      end = resolve;
    });
    this.#turn = { until: Date.now() + turnMs, ended, end };
    return true;
  }

  async endLogin(generation: number, outcome: LoginOutcome): Promise<void> {
    if (generation === this.#generation) {
      if (outcome === 'refused') this.#refused += 1;
      else if (outcome !== 'failed') {
        this.#session = outcome.session;
        this.#version += 1;
        this.#refused = 0;
      }
    }
    const turn = this.#turn;
    this.#turn = undefined;
    turn?.end();
  }

  async discard(generation: number, version: number): Promise<void> {
    if (generation === this.#generation && version === this.#version && this.#session !== null) {
      this.#session = null;
      this.#version += 1;
    }
  }

  /** New credentials: what was stored belonged to the old ones. */
  #follow(generation: number): void {
    if (generation <= this.#generation) return;
    this.#generation = generation;
    this.#session = null;
    this.#version += 1;
    this.#refused = 0;
  }
}
