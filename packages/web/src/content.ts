import { MIMEType } from 'node:util';
import sniffHTMLEncoding from 'html-encoding-sniffer';
import { getBOMEncoding, labelToName } from 'whatwg-encoding';

export interface MediaType {
  /** `type/subtype`, lower case; undefined when the header is missing or unparsable. */
  essence?: string;
  charset?: string;
}

export function mediaTypeOf(header: string | undefined): MediaType {
  if (!header) return {};
  try {
    const parsed = new MIMEType(header);
    return { essence: parsed.essence, charset: parsed.params.get('charset') ?? undefined };
  } catch {
    const essence = header.split(';')[0]?.trim().toLowerCase();
    return essence ? { essence } : {};
  }
}

const HTML = new Set(['text/html', 'application/xhtml+xml']);

const TEXT_APPLICATION_TYPES = new Set([
  'application/json',
  'application/xml',
  'application/javascript',
  'application/ecmascript',
  'application/x-javascript',
  'application/x-www-form-urlencoded',
  'application/yaml',
  'application/x-yaml',
  'application/toml',
  'application/x-ndjson',
  'application/graphql',
  'application/sql',
  'application/x-sh',
  'application/csv',
]);

/** Families that are binary whatever their bytes look like (SVG excepted: it is XML). */
const BINARY_FAMILIES = ['image/', 'audio/', 'video/', 'font/', 'model/'];
const BINARY_APPLICATION_TYPES = new Set([
  'application/pdf',
  'application/zip',
  'application/gzip',
  'application/x-tar',
  'application/wasm',
  'application/x-7z-compressed',
  'application/vnd.rar',
  'application/msword',
]);

export type BodyKind = 'html' | 'text' | 'binary';

/** What the headers alone say; undefined when only the bytes can tell (missing, octet-stream, unknown). */
export function kindByHeader({ essence }: MediaType): BodyKind | undefined {
  if (!essence) return undefined;
  if (HTML.has(essence)) return 'html';
  if (
    essence.startsWith('text/') ||
    TEXT_APPLICATION_TYPES.has(essence) ||
    essence.endsWith('+json') ||
    essence.endsWith('+xml')
  )
    return 'text';
  if (BINARY_FAMILIES.some((family) => essence.startsWith(family)) || BINARY_APPLICATION_TYPES.has(essence))
    return 'binary';
  if (
    essence.startsWith('application/vnd.') &&
    (essence.includes('officedocument') || essence.includes('opendocument'))
  )
    return 'binary';
  return undefined;
}

const UTF8_BOM = [0xef, 0xbb, 0xbf];

/** UTF-8 without errors; `cut`: the bytes are a prefix, so a sequence cut at the end is fine. */
function isUtf8(bytes: Uint8Array, cut: boolean): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: cut });
    return true;
  } catch {
    return false;
  }
}

/** The kind of a body whose headers did not say: NUL bytes or invalid UTF-8 mean binary. */
export function kindByBytes(bytes: Uint8Array): BodyKind {
  const head = bytes.subarray(0, 8192);
  const hasBom =
    UTF8_BOM.every((b, i) => head[i] === b) ||
    (head[0] === 0xfe && head[1] === 0xff) ||
    (head[0] === 0xff && head[1] === 0xfe);
  if (!hasBom && (head.includes(0) || !isUtf8(head, true))) return 'binary';
  const start = new TextDecoder().decode(head.subarray(0, 512)).trimStart().toLowerCase();
  return start.startsWith('<!doctype html') || start.startsWith('<html') ? 'html' : 'text';
}

/**
 * Decode a text body: BOM first, then the Content-Type charset, then (HTML only) the `<meta>`
 * charset prescan of the HTML Standard; with none of them, UTF-8 when the bytes are valid UTF-8
 * and windows-1252 (the web's legacy default) when they are not. `truncated`: the body was cut.
 */
export function decodeText(
  bytes: Uint8Array,
  media: MediaType,
  html: boolean,
  truncated: boolean,
): { text: string; charset: string } {
  let label = html
    ? sniffHTMLEncoding(bytes, { transportLayerEncodingLabel: media.charset, defaultEncoding: '' })
    : (getBOMEncoding(bytes) ?? (media.charset ? labelToName(media.charset) : null) ?? '');
  if (!label) label = isUtf8(bytes, truncated) ? 'utf-8' : 'windows-1252';
  const decoder = decoderFor(label);
  return { text: decoder.decode(bytes), charset: decoder.encoding };
}

function decoderFor(label: string) {
  try {
    return new TextDecoder(label);
  } catch {
    // A label Node cannot decode (e.g. the "replacement" encoding): UTF-8 with replacement characters.
    return new TextDecoder('utf-8');
  }
}
