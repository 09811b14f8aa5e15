export function percentile(values, p) {
  const finite = values.filter(Number.isFinite);
  if (!finite.length) return NaN;
  const sorted = [...finite].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export const round = (value, digits = 2) => (Number.isFinite(value) ? Number(value.toFixed(digits)) : value);

/**
 * One streamed answer's timings (arrival time of each token):
 * - `ttftMs`: request → first token;
 * - `endToEndTokensPerSecond`: tokens ÷ (request → last token), so a late start counts against it;
 * - `outputTokensPerSecond`: tokens after the first ÷ (first token → last token), the usual
 *   "output speed", which leaves the start-up to TTFT instead of counting it twice.
 *   NaN when every token arrived at once (nothing to measure).
 */
export function timing(startedAt, tokenTimes) {
  const first = tokenTimes[0];
  const last = tokenTimes.at(-1);
  return {
    tokens: tokenTimes.length,
    ttftMs: first - startedAt,
    endToEndTokensPerSecond: (tokenTimes.length * 1000) / (last - startedAt),
    outputTokensPerSecond: last > first ? ((tokenTimes.length - 1) * 1000) / (last - first) : NaN,
  };
}
