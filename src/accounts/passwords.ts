import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * Passwords hashed with scrypt (built into Node, memory-hard, maintained with it: no native addon, no
 * dependency). Each hash carries its own parameters and a random 16-byte salt, so stronger parameters
 * later apply to new hashes while old ones still verify. N = 2^15, r = 8, p = 3 is one of the
 * equivalent minimums OWASP's Password Storage Cheat Sheet lists for scrypt: 32 MiB a check rather than
 * 128 MiB at N = 2^17, p = 1, so a busy host signs several people in at once without running short.
 */
const PASSWORD_COST = { log2N: 15, r: 8, p: 3 } as const;
const KEY_BYTES = 32;
const SALT_BYTES = 16;

/** What a password must be: long enough to resist guessing, short enough not to cost a hash a fortune. */
export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 200;

function derive(password: string, salt: Buffer, cost: { log2N: number; r: number; p: number }) {
  const N = 2 ** cost.log2N;
  const options: ScryptOptions = { N, r: cost.r, p: cost.p, maxmem: 256 * N * cost.r + 1024 * 1024 };
  return new Promise<Buffer>((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, KEY_BYTES, options, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

/** `scrypt$15$8$3$<salt>$<hash>`, salt and hash in base64url. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, PASSWORD_COST);
  const { log2N, r, p } = PASSWORD_COST;
  return ['scrypt', log2N, r, p, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** Whether the password is the one hashed, compared in constant time; false for a malformed hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, log2N, r, p, salt, hash] = stored.split('$');
  const cost = { log2N: Number(log2N), r: Number(r), p: Number(p) };
  if (scheme !== 'scrypt' || !salt || !hash || !Object.values(cost).every(Number.isInteger)) return false;
  const expected = Buffer.from(hash, 'base64url');
  const key = await derive(password, Buffer.from(salt, 'base64url'), cost);
  return key.length === expected.length && timingSafeEqual(key, expected);
}

let decoy: Promise<string> | undefined;

/**
 * A hash of no one's password, checked when the e-mail address is unknown: a sign-in takes as long
 * whether or not the address has a user, so its time does not tell which addresses exist.
 */
export const decoyPasswordHash = (): Promise<string> =>
  (decoy ??= hashPassword(randomBytes(24).toString('base64url')));
