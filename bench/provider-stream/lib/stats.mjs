export function percentile(values, p) {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export const round = (value, digits = 2) => (Number.isFinite(value) ? Number(value.toFixed(digits)) : value);

/**
 * One streamed answer's timings: time to first token, and tokens per second over the whole
 * answer (request to last token), so a late start cannot pass for speed.
 */
export function timing(startedAt, tokenTimes) {
  return {
    tokens: tokenTimes.length,
    ttftMs: tokenTimes[0] - startedAt,
    tokensPerSecond: (tokenTimes.length * 1000) / (tokenTimes.at(-1) - startedAt),
  };
}
