import type { CallUsage, ModelPricing } from '@iii-harness/types';

/**
 * Prices as integers: pico-dollars (1e-12 USD) per token. The catalogue gives USD per million
 * tokens as a float; 1 USD per million tokens is exactly 1,000,000 pico-dollars per token, so any
 * price with up to six decimals converts without loss. Costs are summed in BigInt and rounded up
 * to whole micro-dollars once: a reservation is never a fraction of a micro-dollar short.
 */
export interface TokenPrices {
  input: number;
  output: number;
  cache_read: number;
  cache_write: number;
}

const PICO_PER_MICRO = 1_000_000n;

const picoPerToken = (usdPerMillion: number) => Math.round(usdPerMillion * 1_000_000);

export function tokenPricesOf(pricing: ModelPricing): TokenPrices {
  return {
    input: picoPerToken(pricing.input),
    output: picoPerToken(pricing.output),
    cache_read: picoPerToken(pricing.cache_read),
    cache_write: picoPerToken(pricing.cache_write),
  };
}

function ceilToMicro(pico: bigint): number {
  return Number((pico + PICO_PER_MICRO - 1n) / PICO_PER_MICRO);
}

/** The dearest way a prompt token can be billed (plain, cache read or cache write). */
const dearestInput = (p: TokenPrices) => BigInt(Math.max(p.input, p.cache_read, p.cache_write));

/**
 * The most a call can cost: every prompt token at the dearest input rate, every allowed output
 * token at the output rate. Any usage with at most `inputTokens` prompt tokens (however they split
 * into plain, cached and cache-written) and at most `maxOutputTokens` output costs no more.
 */
export function worstCaseMicroUsd(inputTokens: number, maxOutputTokens: number, prices: TokenPrices | null): number {
  if (!prices) return 0;
  return ceilToMicro(BigInt(inputTokens) * dearestInput(prices) + BigInt(maxOutputTokens) * BigInt(prices.output));
}

/** The largest output cap whose worst case fits in `availableMicroUsd`, or null when any cap fits. */
export function maxOutputWithin(
  inputTokens: number,
  availableMicroUsd: number,
  prices: TokenPrices | null,
): number | null {
  if (!prices || prices.output === 0) return null;
  const room = BigInt(Math.max(0, availableMicroUsd)) * PICO_PER_MICRO - BigInt(inputTokens) * dearestInput(prices);
  if (room < 0n) return -1;
  return Number(room / BigInt(prices.output));
}

/** What a call cost: the usage the provider reported, priced token kind by token kind. */
export function costMicroUsd(usage: CallUsage, prices: TokenPrices | null): number {
  if (!prices) return 0;
  return ceilToMicro(
    BigInt(usage.input_tokens) * BigInt(prices.input) +
      BigInt(usage.output_tokens) * BigInt(prices.output) +
      BigInt(usage.cache_read_tokens) * BigInt(prices.cache_read) +
      BigInt(usage.cache_write_tokens) * BigInt(prices.cache_write),
  );
}

/** Tokens a call used: every prompt token (plain, cached, cache-written) and every output token. */
export const tokensOf = (usage: CallUsage) =>
  usage.input_tokens + usage.cache_read_tokens + usage.cache_write_tokens + usage.output_tokens;
