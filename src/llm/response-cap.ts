// How long the next model response may be so a conversation stays within its caps. Used by the
// agent loop (an attempt's caps) and the planner (the run's budget). Before a request the prompt's
// size is only estimated, so the response's `max_tokens` is what is left after the prompt's
// estimated cost; when too little is left for a useful response, the conversation stops instead.
import type { Usage } from '../protocol/schemas.js';
import { totalTokens } from '../protocol/usage.js';
import { costOf, type ModelPrice } from './prices.js';

/** A cap may not shorten a response below this many output tokens (or its own max_tokens, if smaller); with less left, stop. */
export const MIN_OUTPUT_TOKENS = 256;
/** The prompt estimate (characters / 4) is rough: count it 10% larger. */
const ESTIMATE_MARGIN = 1.1;

/** Caps of one conversation: USD and tokens (input + output + cache); null means no cap. */
export interface ConversationCaps {
  max_cost_usd: number | null;
  max_tokens: number | null;
}

/** What the next request of a conversation may be. */
export type ResponseCap =
  | { kind: 'ok'; /** the request's `max_tokens` */ maxTokens: number }
  /** Less than MIN_OUTPUT_TOKENS could be afforded under this cap. */
  | { kind: 'stop'; cap: 'cost' | 'tokens' };

/** What responseCap needs. */
export interface ResponseCapInput {
  /** The `max_tokens` the conversation asks for when nothing else binds (tokens). */
  maxOutput: number;
  caps: ConversationCaps;
  /** What the conversation has spent so far. */
  spent: Usage;
  price: ModelPrice;
  /** The next prompt's estimated size, tokens (characters / 4). */
  promptTokens: number;
  /** The previous request's prompt size, tokens (0 before the first): that much is priced as a cache read. */
  cachedTokens: number;
}

/**
 * Thrown by a request function given to `withRetries` when, before a retry, the caps no longer pay
 * for a response (the tries that failed midway were charged): `withRetries` passes it through.
 */
export class CapReached extends Error {
  constructor(readonly cap: 'cost' | 'tokens') {
    super(`the ${cap} cap leaves too little for another try`);
    this.name = 'CapReached';
  }
}

/** Estimated tokens of a prompt from its parts' JSON: characters / 4. */
export function estimateTokens(...parts: unknown[]): number {
  return Math.ceil(
    parts.reduce<number>((n, p) => n + (typeof p === 'string' ? p.length : JSON.stringify(p).length), 0) / 4,
  );
}

/**
 * The `max_tokens` of the next response under the caps, or which cap leaves too little for one.
 * The prompt is priced as cached up to the previous request's length and as a cache write beyond
 * it (a cache miss would cost more: the cap can be crossed by at most one response whose prompt
 * was larger than estimated or missed the cache).
 */
export function responseCap(i: ResponseCapInput): ResponseCap {
  const least = Math.min(MIN_OUTPUT_TOKENS, i.maxOutput);
  let maxTokens = i.maxOutput;
  if (i.caps.max_cost_usd !== null) {
    const left = i.caps.max_cost_usd - i.spent.cost_usd;
    const newTokens = Math.max(0, i.promptTokens - i.cachedTokens);
    const promptCost =
      ESTIMATE_MARGIN *
      costOf(
        {
          input_tokens: 0,
          output_tokens: 0,
          cache_read_tokens: Math.min(i.cachedTokens, i.promptTokens),
          cache_write_tokens: newTokens,
        },
        i.price,
      );
    maxTokens = Math.min(maxTokens, Math.floor(((left - promptCost) * 1e6) / i.price.output));
    if (maxTokens < least) return { kind: 'stop', cap: 'cost' };
  }
  if (i.caps.max_tokens !== null) {
    maxTokens = Math.min(
      maxTokens,
      i.caps.max_tokens - totalTokens(i.spent) - Math.ceil(ESTIMATE_MARGIN * i.promptTokens),
    );
    if (maxTokens < least) return { kind: 'stop', cap: 'tokens' };
  }
  return { kind: 'ok', maxTokens };
}
