/** Delay before the next delivery after `attempts` failures: `backoff_ms · 2^(attempts−1)`. */
export function backoffDelay(baseMs: number, attempts: number): number {
  // Cap the exponent so a large max_retries cannot overflow into Infinity.
  const exponent = Math.min(Math.max(attempts - 1, 0), 30);
  return baseMs * 2 ** exponent;
}
