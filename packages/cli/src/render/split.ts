/**
 * Where streaming markdown can be cut so that what came before renders the same whatever follows.
 * (Pure, apart from the renderer, so the chat's transcript and the tests use it without loading it.)
 */

const FENCE = /^ {0,3}(`{3,}|~{3,})(.*)$/;

export interface MarkdownSplit {
  /** Blocks that are complete: they render the same whatever follows. */
  complete: string;
  /** The block still being written. */
  rest: string;
}

/**
 * Split streaming markdown where it is safe to render what came before: after the last blank
 * line outside a code fence. A very long open block is cut at its last full line anyway (a code
 * fence is closed there and opened again in `rest`), so what stays live on screen stays short.
 */
export function splitComplete(text: string, maxOpenLines = 24): MarkdownSplit {
  const lines = text.split('\n');
  let fence: { marker: string; info: string } | undefined;
  let cut = -1; // index of the first line of `rest`
  for (let i = 0; i < lines.length - 1; i++) {
    const line = lines[i]!;
    const match = FENCE.exec(line);
    if (match) {
      const marker = match[1]!;
      if (!fence) fence = { marker, info: match[2]!.trim() };
      else if (marker[0] === fence.marker[0] && marker.length >= fence.marker.length && match[2]!.trim() === '') {
        fence = undefined;
        cut = i + 1; // a closed fence is a complete block
      }
      continue;
    }
    if (!fence && line.trim() === '') cut = i + 1;
  }
  const openLines = lines.length - 1 - Math.max(cut, 0);
  if (openLines > maxOpenLines) {
    // Too long to keep live: cut at the last full line.
    const at = lines.length - 1;
    const head = lines.slice(0, at).join('\n');
    const tail = lines[at]!;
    if (fence) {
      const reopen = `${fence.marker}${fence.info}`;
      return { complete: `${head}\n${fence.marker}\n`, rest: `${reopen}\n${tail}` };
    }
    return { complete: `${head}\n`, rest: tail };
  }
  if (cut <= 0) return { complete: '', rest: text };
  return { complete: `${lines.slice(0, cut).join('\n')}\n`, rest: lines.slice(cut).join('\n') };
}
