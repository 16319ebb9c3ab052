/** A reproducible source of randomness (mulberry32): the same seed, the same kills and fault mixes. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** A whole number in [low, high]. */
export const between = (random: () => number, low: number, high: number) =>
  low + Math.floor(random() * (high - low + 1));

/** The faults every simulator is set to between mixes: none. */
export const calm = {
  latencyMs: 0,
  errorRate: 0,
  rateLimitPerSecond: null,
  maxConcurrent: null,
  outage: false,
  dropAnswerRate: 0,
};

/**
 * The kinds of carrier trouble a mix is drawn from (API.md §5 faults). Below the accounts' own rates
 * (8/s and 5/s) the simulators' limits answer 429 with Retry-After; a latency past the accounts'
 * 2-second request timeout makes calls time out with the carrier acting on them all the same, and a
 * lost answer is one the carrier acted on before the connection closed.
 */
const ingredients: Record<string, Record<string, unknown>> = {
  '5xx': { errorRate: 0.2 },
  '429': { rateLimitPerSecond: 2 },
  'busy 429': { maxConcurrent: 1 },
  slow: { latencyMs: 800 },
  timeouts: { latencyMs: 2_500 },
  outage: { outage: true },
  'lost answers': { dropAnswerRate: 0.3 },
};

export const faultKinds = [...Object.keys(ingredients), 'token expiry'];

export interface FaultMix {
  /** The kinds in the mix, e.g. `5xx + token expiry`. */
  name: string;
  /** For both simulators. */
  faults: Record<string, unknown>;
  /** ThingSpace expires every token and session it issued (one-shot, at its next request). */
  expireTokens: boolean;
}

/** One or two kinds of trouble at once (or none, a breath between storms). */
export function drawMix(random: () => number): FaultMix {
  const count = between(random, 0, 2);
  const kinds = new Set<string>();
  while (kinds.size < count) kinds.add(faultKinds[between(random, 0, faultKinds.length - 1)]);
  const chosen = [...kinds].sort();
  const faults = Object.assign({ ...calm }, ...chosen.map((kind) => ingredients[kind] ?? {}));
  return { name: chosen.join(' + ') || 'calm', faults, expireTokens: kinds.has('token expiry') };
}
