import type { Citation, JsonValue, ServerToolResultBlock } from '@iii-harness/types';

/**
 * What a vendor ran on its own side (Anthropic web search, web fetch, code execution, tool
 * search) and the sources it cited, as a few lines a person reads. The full payload stays one
 * `/expand` away; encrypted parts (search hits' `encrypted_content`) are never shown.
 */

type Obj = Record<string, JsonValue>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

/** The error code a vendor puts in place of a result (`max_uses_exceeded`, `url_not_accessible`, …). */
function errorCode(content: JsonValue): string | undefined {
  if (isObj(content)) return str(content.error_code) ?? (str(content.type)?.endsWith('error') ? 'error' : undefined);
  return undefined;
}

const firstLines = (text: string, n: number) => text.replace(/\s+$/, '').split('\n').slice(0, n);

/** A page found or fetched: `Title — url`. */
const pageLine = (page: Obj) => {
  const title = str(page.title) ?? (isObj(page.content) ? str(page.content.title) : undefined);
  const url = str(page.url) ?? '';
  return title ? `${title} — ${url}` : url;
};

/** Up to `max` lines about a vendor tool's result, and whether it is an error. */
export function summarizeServerResult(block: ServerToolResultBlock, max = 3): { lines: string[]; is_error: boolean } {
  const { content } = block;
  const code = errorCode(content);
  if (block.is_error || code) return { lines: [`error: ${code ?? 'the vendor reported an error'}`], is_error: true };
  // Search hits: a list of pages.
  if (Array.isArray(content)) {
    const pages = content.filter(isObj).filter((p) => str(p.url));
    if (pages.length) {
      const lines = pages.slice(0, max).map(pageLine);
      const more = pages.length - lines.length;
      return {
        lines: [
          `${pages.length} result${pages.length === 1 ? '' : 's'}`,
          ...lines,
          ...(more > 0 ? [`+${more} more`] : []),
        ],
        is_error: false,
      };
    }
  }
  if (isObj(content)) {
    // A fetched page.
    if (str(content.url)) return { lines: [`fetched ${pageLine(content)}`], is_error: false };
    // Code that ran: its exit code, then what it printed.
    if ('return_code' in content || 'stdout' in content) {
      const rc = content.return_code;
      const out = firstLines(str(content.stdout) ?? '', max);
      const err = firstLines(str(content.stderr) ?? '', max);
      return {
        lines: [`exit ${rc ?? '?'}`, ...out.filter(Boolean), ...err.filter(Boolean).map((l) => `stderr: ${l}`)],
        is_error: typeof rc === 'number' && rc !== 0,
      };
    }
    // Tools found by tool search.
    if (Array.isArray(content.tool_references)) {
      const names = content.tool_references.filter(isObj).flatMap((r) => str(r.tool_name) ?? []);
      return { lines: [`found ${names.length ? names.join(', ') : 'no tools'}`], is_error: false };
    }
  }
  const json = JSON.stringify(content) ?? '';
  return { lines: [json.length > 200 ? `${json.slice(0, 199)}…` : json], is_error: false };
}

/** Sources cited by a text block, each once (by url, else by title and cited text). */
export function distinctSources(citations: Citation[]): Citation[] {
  const seen = new Set<string>();
  return citations.filter((c) => {
    const key = c.url ?? `${c.title ?? ''}\u0000${c.cited_text ?? ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** `[1] Title — url` or, for a document location, `[1] “cited text”`. */
export function sourceLine(citation: Citation, n: number): string {
  const where = [citation.title, citation.url].filter(Boolean).join(' — ');
  const quote = citation.cited_text ? `“${citation.cited_text.replace(/\s+/g, ' ').trim()}”` : '';
  return `[${n}] ${where || quote || citation.type}`;
}

/** The vendor's account of a refusal, as one line. */
export function refusalText(details: { type: string; category?: string; explanation?: string } | undefined): string {
  const kind =
    details?.type === 'content_filter'
      ? "the vendor's content filter stopped the reply"
      : 'the model declined to answer';
  const category = details?.category ? ` (${details.category})` : '';
  return `${kind}${category}${details?.explanation ? `: ${details.explanation}` : ''}`;
}
