/**
 * Shorten a text to its head and tail, saying what was cut. The head gets 60 %: an output's
 * start says what it is (a listing's header, a file's imports), its end how it ended (an
 * error, a summary line). Cuts move to a line break when one is near.
 */
export function headTail(
  text: string,
  keepChars: number,
  why: string,
): { text: string; cut: string; cutChars: number } {
  if (text.length <= keepChars) return { text, cut: '', cutChars: 0 };
  let headEnd = snapToLine(text, Math.floor(keepChars * 0.6), -1);
  let tailStart = snapToLine(text, text.length - Math.floor(keepChars * 0.4), 1);
  if (tailStart <= headEnd) {
    headEnd = Math.floor(keepChars * 0.6);
    tailStart = text.length - Math.floor(keepChars * 0.4);
  }
  const cut = text.slice(headEnd, tailStart);
  const lines = (s: string) => s.split('\n').length - 1;
  const firstCutLine = lines(text.slice(0, headEnd)) + 1;
  const marker = `\n[... ${cut.length} characters (lines ${firstCutLine}-${firstCutLine + lines(cut)} of ${lines(text) + 1}) ${why} ...]\n`;
  return { text: `${text.slice(0, headEnd)}${marker}${text.slice(tailStart)}`, cut, cutChars: cut.length };
}

/** A position moved to just after a nearby line break (within 10 % of it), else unchanged. */
function snapToLine(text: string, at: number, direction: -1 | 1): number {
  const reach = Math.max(40, Math.floor(at * 0.1));
  const found = direction < 0 ? text.lastIndexOf('\n', at) : text.indexOf('\n', at);
  if (found >= 0 && Math.abs(found - at) <= reach) return found + 1;
  return at;
}

/** Characters that hold about `tokens` tokens of this text (its own ratio, so code and prose both fit). */
export function charsForTokens(text: string, textTokens: number, tokens: number): number {
  if (textTokens <= 0) return text.length;
  return Math.max(200, Math.floor((text.length / textTokens) * tokens));
}
