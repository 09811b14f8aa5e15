import {
  type BinaryLike,
  createCipheriv,
  createDecipheriv,
  randomBytes,
  type ScryptOptions,
  scrypt,
} from 'node:crypto';
import { ConfigError, HarnessError } from '@iii-harness/runtime';
import { z } from 'zod';

/**
 * `IIH_CREDENTIALS_KEY` formats:
 * - `base64:<32 bytes in base64>` or `hex:<64 hex digits>`: the AES-256 key itself;
 * - anything else is a passphrase (at least 12 characters), stretched with scrypt and a random
 *   salt kept in the file header.
 */
export type CredentialKey = { kind: 'raw'; key: Buffer } | { kind: 'passphrase'; passphrase: string };

const MIN_PASSPHRASE_LENGTH = 12;
const KEY_BYTES = 32;
const IV_BYTES = 12;
const SALT_BYTES = 16;
/** scrypt cost for new files: 32 MiB and ~0.1 s once per process (the derived key is cached). */
const SCRYPT_DEFAULTS = { n: 2 ** 15, r: 8, p: 1 };

export function parseCredentialKey(
  value: string | undefined,
  variable = 'IIH_CREDENTIALS_KEY',
): CredentialKey | undefined {
  if (value === undefined || value === '') return undefined;
  if (value.startsWith('base64:') || value.startsWith('hex:')) {
    const [format, encoded] = [value.slice(0, value.indexOf(':')), value.slice(value.indexOf(':') + 1)];
    const valid = format === 'hex' ? /^[0-9a-fA-F]{64}$/.test(encoded) : /^[A-Za-z0-9+/]{43}=?$/.test(encoded);
    const key = valid ? Buffer.from(encoded, format as 'hex' | 'base64') : undefined;
    if (!key || key.length !== KEY_BYTES)
      throw new ConfigError(`${variable}: a ${format}: key must encode exactly ${KEY_BYTES} bytes`);
    return { kind: 'raw', key };
  }
  if (value.length < MIN_PASSPHRASE_LENGTH)
    throw new ConfigError(
      `${variable}: a passphrase needs at least ${MIN_PASSPHRASE_LENGTH} characters (or use base64:<32 bytes> / hex:<64 hex digits>)`,
    );
  return { kind: 'passphrase', passphrase: value };
}

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'not base64');

export const cipherHeader = z.discriminatedUnion('kdf', [
  z.object({ alg: z.literal('aes-256-gcm'), kdf: z.literal('raw') }).strict(),
  z
    .object({
      alg: z.literal('aes-256-gcm'),
      kdf: z.literal('scrypt'),
      salt: base64,
      // Bounded so a tampered header cannot make us burn gigabytes deriving a key.
      n: z
        .number()
        .int()
        .min(2 ** 10)
        .max(2 ** 17)
        .refine((n) => (n & (n - 1)) === 0, 'n must be a power of two'),
      r: z.number().int().min(1).max(16),
      p: z.number().int().min(1).max(16),
    })
    .strict(),
]);
export type CipherHeader = z.infer<typeof cipherHeader>;

/** The encrypted part of a credentials file (the plaintext is the JSON of `{providers}`). */
export interface Sealed {
  cipher: CipherHeader;
  iv: string;
  tag: string;
  data: string;
}

const unavailable = (reason: string, message: string) =>
  new HarnessError('unavailable', message, { reason, retryable: false });

function deriveKey(passphrase: string, header: Extract<CipherHeader, { kdf: 'scrypt' }>): Promise<Buffer> {
  const options: ScryptOptions = { N: header.n, r: header.r, p: header.p, maxmem: 2 * 128 * header.n * header.r };
  return new Promise((resolve, reject) => {
    scrypt(passphrase as BinaryLike, Buffer.from(header.salt, 'base64'), KEY_BYTES, options, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

/** The header is authenticated too, so editing the kdf parameters or salt fails like a wrong key. */
function associatedData(header: CipherHeader): Buffer {
  const parts =
    header.kdf === 'scrypt'
      ? [header.alg, 'v1', header.kdf, header.salt, header.n, header.r, header.p]
      : [header.alg, 'v1', header.kdf];
  return Buffer.from(parts.join('|'), 'utf8');
}

/** AES-256-GCM over the credentials JSON with a fresh IV per write. */
export class VaultCipher {
  /** scrypt keys by salt: deriving costs ~0.1 s, so it happens once per salt. */
  private readonly derived = new Map<string, Promise<Buffer>>();
  /** The header of the last file opened; a passphrase file keeps its salt across writes. */
  private lastHeader?: CipherHeader;

  constructor(private readonly secret: CredentialKey) {}

  async seal(plaintext: Buffer): Promise<Sealed> {
    const header = this.headerForWrite();
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', await this.keyFor(header), iv);
    cipher.setAAD(associatedData(header));
    const data = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return {
      cipher: header,
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      data: data.toString('base64'),
    };
  }

  async open(sealed: Sealed, file: string): Promise<Buffer> {
    if (sealed.cipher.kdf === 'scrypt' && this.secret.kind === 'raw') {
      throw unavailable(
        'credentials_key_mismatch',
        `credentials file ${file} is encrypted with a passphrase, but IIH_CREDENTIALS_KEY holds a raw key`,
      );
    }
    if (sealed.cipher.kdf === 'raw' && this.secret.kind === 'passphrase') {
      throw unavailable(
        'credentials_key_mismatch',
        `credentials file ${file} is encrypted with a raw key, but IIH_CREDENTIALS_KEY holds a passphrase`,
      );
    }
    const iv = Buffer.from(sealed.iv, 'base64');
    const tag = Buffer.from(sealed.tag, 'base64');
    if (iv.length !== IV_BYTES || tag.length !== 16)
      throw unavailable('credentials_corrupt', `credentials file ${file} has a malformed iv or tag`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', await this.keyFor(sealed.cipher), iv);
      decipher.setAAD(associatedData(sealed.cipher));
      decipher.setAuthTag(tag);
      const plaintext = Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64')), decipher.final()]);
      this.lastHeader = sealed.cipher;
      return plaintext;
    } catch {
      throw unavailable(
        'credentials_key_mismatch',
        `credentials file ${file} cannot be decrypted: IIH_CREDENTIALS_KEY is not the key it was written with, or the file was altered`,
      );
    }
  }

  private headerForWrite(): CipherHeader {
    if (this.secret.kind === 'raw') return { alg: 'aes-256-gcm', kdf: 'raw' };
    if (this.lastHeader?.kdf === 'scrypt') return this.lastHeader;
    this.lastHeader = {
      alg: 'aes-256-gcm',
      kdf: 'scrypt',
      salt: randomBytes(SALT_BYTES).toString('base64'),
      ...SCRYPT_DEFAULTS,
    };
    return this.lastHeader;
  }

  private keyFor(header: CipherHeader): Promise<Buffer> {
    if (this.secret.kind === 'raw') return Promise.resolve(this.secret.key);
    if (header.kdf !== 'scrypt') throw new Error('a passphrase needs an scrypt header');
    const id = `${header.salt}|${header.n}|${header.r}|${header.p}`;
    let key = this.derived.get(id);
    if (!key) {
      key = deriveKey(this.secret.passphrase, header);
      this.derived.set(id, key);
      key.catch(() => this.derived.delete(id));
    }
    return key;
  }
}
