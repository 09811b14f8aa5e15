import { HarnessError, isHarnessError, versionedRecord } from '@iii-harness/runtime';
import { providerId } from '@iii-harness/types';
import { z } from 'zod';
import { cipherHeader, type VaultCipher } from './encryption.js';

/**
 * The credentials file, version 2. Plain:
 *   {"v": 2, "providers": {"anthropic": {"token": "…", "updated_at": "<ISO time>"}}}
 * Encrypted (IIH_CREDENTIALS_KEY set): the same `{providers}` object, AES-256-GCM sealed:
 *   {"v": 2, "cipher": {"alg": "aes-256-gcm", "kdf": "raw" | "scrypt", …}, "iv", "tag", "data"}
 * Version 1 was the same with the version under `"version"`; it is read and rewritten as 2 at the
 * next write. A newer version is refused (never rewritten), so a newer writer's data is safe.
 */
export const FILE_VERSION = 2;

const fileVersions = versionedRecord({
  what: 'credentials file',
  current: FILE_VERSION,
  legacyVersionField: 'version',
  // Only the version is handled here; the structure is checked below, by errors that never quote the file.
  schema: z.looseObject({}),
  migrations: {
    1: ({ version: _v1, ...rest }) => rest,
  },
});

const storedCredential = z.object({ token: z.string().min(1), updated_at: z.string().min(1) }).strict();
export type StoredCredential = z.infer<typeof storedCredential>;
export type Providers = Record<string, StoredCredential>;

const providersMap = z.record(providerId, storedCredential);
const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/);
const plainFile = z.object({ v: z.literal(FILE_VERSION), providers: providersMap }).strict();
const sealedFile = z
  .object({ v: z.literal(FILE_VERSION), cipher: cipherHeader, iv: base64, tag: base64, data: base64 })
  .strict();
const sealedPayload = z.object({ providers: providersMap }).strict();

export interface DecodedFile {
  providers: Providers;
  encrypted: boolean;
}

const unavailable = (reason: string, message: string) =>
  new HarnessError('unavailable', message, { reason, retryable: false });

const corrupt = (file: string, detail: string) =>
  unavailable(
    'credentials_corrupt',
    `credentials file ${file} is corrupt (${detail}); fix or remove it — it will not be overwritten until then`,
  );

/**
 * Zod issues without values: parse errors must never echo file content (it holds secrets), so
 * only the path (provider ids that are not valid ids are hidden too) and the issue kind are kept.
 */
function describeIssues(error: z.ZodError): string {
  const safeSegment = (segment: PropertyKey, index: number, path: PropertyKey[]) =>
    index === 1 && path[0] === 'providers' && !providerId.safeParse(segment).success
      ? '<invalid provider id>'
      : String(segment);
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.map(safeSegment).join('.') || '(root)'}: ${issue.code}`)
    .join('; ');
}

function parseJson(text: string, file: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // V8's message quotes the text around the error, which may be a token: never include it.
    throw corrupt(file, `${what} is not valid JSON`);
  }
}

/** The providers held in a credentials file's text; errors say what is wrong and never quote the content. */
export async function decodeFile(text: string, file: string, cipher?: VaultCipher): Promise<DecodedFile> {
  const parsed = parseJson(text, file, 'the file');
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw corrupt(file, 'not a JSON object');
  let raw: Record<string, unknown>;
  try {
    raw = fileVersions.read(parsed, file);
  } catch (error) {
    // A newer version keeps its own error; anything else about the version is corruption.
    if (isHarnessError(error) && error.reason === 'unsupported_record_version') throw error;
    throw corrupt(file, 'no valid version field "v"');
  }
  if (!('cipher' in raw)) {
    const plain = plainFile.safeParse(raw);
    if (!plain.success) throw corrupt(file, describeIssues(plain.error));
    return { providers: plain.data.providers, encrypted: false };
  }
  const sealed = sealedFile.safeParse(raw);
  if (!sealed.success) throw corrupt(file, describeIssues(sealed.error));
  if (!cipher) {
    throw unavailable(
      'credentials_key_required',
      `credentials file ${file} is encrypted; set IIH_CREDENTIALS_KEY to the key it was written with`,
    );
  }
  const plaintext = await cipher.open(sealed.data, file);
  const payload = sealedPayload.safeParse(parseJson(plaintext.toString('utf8'), file, 'the decrypted content'));
  if (!payload.success) throw corrupt(file, describeIssues(payload.error));
  return { providers: payload.data.providers, encrypted: true };
}

/** The file text for these providers: sealed when a key is set, plain otherwise. */
export async function encodeFile(providers: Providers, cipher?: VaultCipher): Promise<string> {
  const sorted = Object.fromEntries(Object.entries(providers).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  if (!cipher) return `${JSON.stringify({ v: FILE_VERSION, providers: sorted }, null, 2)}\n`;
  const sealed = await cipher.seal(Buffer.from(JSON.stringify({ providers: sorted }), 'utf8'));
  return `${JSON.stringify({ v: FILE_VERSION, ...sealed }, null, 2)}\n`;
}
