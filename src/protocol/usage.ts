// Arithmetic on Usage values (tokens and USD), shared by workers, the coordinator and readers.
import type { Usage } from './schemas.js';

/** No tokens, no cost. Copy it before mutating. */
export const ZERO_USAGE: Readonly<Usage> = Object.freeze({
  input_tokens: 0,
  output_tokens: 0,
  cache_read_tokens: 0,
  cache_write_tokens: 0,
  cost_usd: 0,
});

/** The sum of two usages (a new object). Costs are rounded to 1e-9 USD so sums do not drift. */
export function addUsage(a: Usage, b: Usage): Usage {
  return {
    input_tokens: a.input_tokens + b.input_tokens,
    output_tokens: a.output_tokens + b.output_tokens,
    cache_read_tokens: a.cache_read_tokens + b.cache_read_tokens,
    cache_write_tokens: a.cache_write_tokens + b.cache_write_tokens,
    cost_usd: Math.round((a.cost_usd + b.cost_usd) * 1e9) / 1e9,
  };
}

/** Every token of a usage: uncached input, cache reads and writes, and output (what `max_tokens` caps count). */
export function totalTokens(
  u: Pick<Usage, 'input_tokens' | 'output_tokens' | 'cache_read_tokens' | 'cache_write_tokens'>,
): number {
  return u.input_tokens + u.output_tokens + u.cache_read_tokens + u.cache_write_tokens;
}
