import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ensurePrivateDirectory, restrictIfPresent, writePrivateFile } from '../shared/private-files.ts';

const VERSION = 'v1';

/** AES-256-GCM for secrets at rest (carrier credentials). Ciphertext: `v1.<iv>.<tag>.<data>` in base64url. */
export class SecretBox {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new Error('The encryption key must be 32 bytes');
    this.#key = key;
  }

  encrypt(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, iv, cipher.getAuthTag(), data]
      .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
      .join('.');
  }

  decrypt(ciphertext: string): string {
    const [version, iv, tag, data] = ciphertext.split('.');
    if (version !== VERSION || !iv || !tag || data === undefined) throw new Error('Unrecognised ciphertext');
    const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString(
      'utf8',
    );
  }
}

/**
 * The key comes from `BULKCHANGE_ENCRYPTION_KEY`, or is generated once into the data directory
 * (readable by its owner only) so that an embedded install needs no set-up.
 */
export function loadSecretBox(options: { keyHex?: string; dataDir: string }): SecretBox {
  if (options.keyHex) return new SecretBox(Buffer.from(options.keyHex, 'hex'));
  const file = path.join(options.dataDir, 'encryption.key');
  if (!existsSync(file)) {
    ensurePrivateDirectory(options.dataDir);
    writePrivateFile(file, randomBytes(32).toString('hex'), { exclusive: true });
  }
  restrictIfPresent(file);
  return new SecretBox(Buffer.from(readFileSync(file, 'utf8').trim(), 'hex'));
}
