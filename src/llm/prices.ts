// The price table of models, in one place. Costs the API does not report in USD are computed here.
//
// Prices in USD per million tokens, from Anthropic's pricing page
// (https://platform.claude.com/docs/en/about-claude/pricing, "Model pricing") and the model
// overview pages (https://platform.claude.com/docs/en/models/<model>/overview), as read on
// 2026-11-21. Cache writes are the 5-minute rate; cache hits as those pages list them (0.1 × input
// for most models; Sonnet 5 / 5.5: $0.20, Opus 5.5: $0.20, Fable 5.1: $0.25). Update this file, and only this file, when prices change; a role's `price:`
// overrides the table for a model it does not know.

/** Prices of one model, USD per million tokens. */
export interface ModelPrice {
  input: number;
  output: number;
  cache_read: number;
  cache_write: number;
}

/** What the table knows of a model family. */
interface ModelEntry {
  /** The family's model id; dated ids of it (`claude-sonnet-4-5-20250929`) belong to it too. */
  prefix: string;
  price: ModelPrice;
  /** Context window, tokens. */
  context: number;
}

/**
 * A model's prices from its input and output prices (USD per million tokens), with the cache prices
 * Anthropic derives from the input price where none is given: reads at 0.1×, 5-minute writes at
 * 1.25× (platform.claude.com pricing page). The table and a config's `price:` both use it.
 */
export function priceWithDefaults(p: {
  input: number;
  output: number;
  cache_read?: number | undefined;
  cache_write?: number | undefined;
}): ModelPrice {
  return {
    input: p.input,
    output: p.output,
    cache_read: p.cache_read ?? p.input / 10,
    cache_write: p.cache_write ?? p.input * 1.25,
  };
}

const tier = (input: number, output: number): ModelPrice => priceWithDefaults({ input, output });

/** Longest prefix first, so `claude-opus-4-5` wins over `claude-opus-4`. */
const TABLE: readonly ModelEntry[] = [
  {
    prefix: 'claude-fable-5-1',
    price: { input: 10, output: 50, cache_read: 0.25, cache_write: 12.5 },
    context: 1_000_000,
  },
  { prefix: 'claude-fable-5', price: tier(10, 50), context: 1_000_000 },
  { prefix: 'claude-opus-5-5', price: { input: 4, output: 20, cache_read: 0.2, cache_write: 5 }, context: 1_000_000 },
  {
    prefix: 'claude-sonnet-5-5',
    price: { input: 2, output: 10, cache_read: 0.2, cache_write: 2.5 },
    context: 1_000_000,
  },
  { prefix: 'claude-sonnet-5', price: { input: 2, output: 10, cache_read: 0.2, cache_write: 2.5 }, context: 1_000_000 },
  { prefix: 'claude-opus-5', price: tier(5, 25), context: 1_000_000 },
  { prefix: 'claude-opus-4-8', price: tier(5, 25), context: 200_000 },
  { prefix: 'claude-opus-4-7', price: tier(5, 25), context: 200_000 },
  { prefix: 'claude-opus-4-6', price: tier(5, 25), context: 200_000 },
  { prefix: 'claude-opus-4-5', price: tier(5, 25), context: 200_000 },
  { prefix: 'claude-opus-4-1', price: tier(15, 75), context: 200_000 },
  { prefix: 'claude-opus-4', price: tier(15, 75), context: 200_000 },
  { prefix: 'claude-sonnet-4-6', price: tier(3, 15), context: 200_000 },
  { prefix: 'claude-sonnet-4-5', price: tier(3, 15), context: 200_000 },
  { prefix: 'claude-sonnet-4', price: tier(3, 15), context: 200_000 },
  { prefix: 'claude-3-7-sonnet', price: tier(3, 15), context: 200_000 },
  { prefix: 'claude-haiku-4-5', price: tier(1, 5), context: 200_000 },
  { prefix: 'claude-3-5-haiku', price: { input: 0.8, output: 4, cache_read: 0.08, cache_write: 1 }, context: 200_000 },
  // OpenAI (the `codex` backend). OpenAI's pricing page could not be read from here: gpt-5.5,
  // gpt-5.4 and gpt-5.4-mini from tokenmix.ai citing it (2026-06-04; hivebook.wiki and devbriefs.com
  // agree); gpt-5.3-codex from GitHub Copilot's table (github/docs models-and-pricing.yml, undated).
  // Cached input as listed; OpenAI charges nothing extra to write its cache, so cache_write = input.
  // The context windows here are not sourced: only the anthropic backend uses them (compaction).
  { prefix: 'gpt-5.5', price: { input: 5, output: 30, cache_read: 0.5, cache_write: 5 }, context: 400_000 },
  { prefix: 'gpt-5.4', price: { input: 2.5, output: 15, cache_read: 0.25, cache_write: 2.5 }, context: 400_000 },
  {
    prefix: 'gpt-5.4-mini',
    price: { input: 0.75, output: 4.5, cache_read: 0.075, cache_write: 0.75 },
    context: 400_000,
  },
  {
    prefix: 'gpt-5.3-codex',
    price: { input: 1.75, output: 14, cache_read: 0.175, cache_write: 1.75 },
    context: 400_000,
  },
  // Gemini (the `gemini` backend), prompts up to 200k tokens (longer prompts cost more; not
  // modelled). Google's own page (https://ai.google.dev/gemini-api/docs/pricing) could not be read
  // from here: these figures are third-party copies of it, to be checked against it.
  // gemini-2.5-pro and -flash: deploybase.ai/articles/gemini-api-pricing (2026-01-08); gemini-3-pro:
  // aifreeapi.com/en/posts/gemini-3-api-pricing-quota (2026-02-04); gemini-3-flash: factquire.com
  // (citing Google's page, read 2026-07-04). Implicit cache hits at the cached-input price; Gemini
  // charges nothing extra to write its implicit cache, so cache_write = input.
  { prefix: 'gemini-3-pro', price: { input: 2, output: 12, cache_read: 0.2, cache_write: 2 }, context: 1_000_000 },
  {
    prefix: 'gemini-3-flash',
    price: { input: 0.5, output: 3, cache_read: 0.05, cache_write: 0.5 },
    context: 1_000_000,
  },
  {
    prefix: 'gemini-2.5-pro',
    price: { input: 1.25, output: 10, cache_read: 0.125, cache_write: 1.25 },
    context: 1_000_000,
  },
  {
    prefix: 'gemini-2.5-flash',
    price: { input: 0.3, output: 2.5, cache_read: 0.03, cache_write: 0.3 },
    context: 1_000_000,
  },
].sort((a, b) => b.prefix.length - a.prefix.length);

/** Model ids the table knows (their family prefixes), for error messages. */
export const KNOWN_MODELS: readonly string[] = TABLE.map((e) => e.prefix).sort();

/** The table's entry for a model id, or undefined if it does not know it. */
export function modelInfo(model: string): { price: ModelPrice; context: number } | undefined {
  // The family's id itself, or it with a date (`-20250929`), `-latest`, a platform version
  // (`@20250929`), or Google's `-preview` with or without a date (`-preview-06-05`).
  const e = TABLE.find(
    (x) =>
      model.startsWith(x.prefix) &&
      /^(-\d{8}|-latest|@.+|-preview(-\d{2}-\d{2})?)?$/.test(model.slice(x.prefix.length)),
  );
  return e ? { price: e.price, context: e.context } : undefined;
}

/** Tokens of one or more model responses, as the API's `usage` reports them. */
export interface TokenCounts {
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
}

/** Cost in USD of `tokens` at `price` (USD per million tokens). */
export function costOf(tokens: TokenCounts, price: ModelPrice): number {
  const usd =
    (tokens.input_tokens * price.input +
      tokens.output_tokens * price.output +
      tokens.cache_read_tokens * price.cache_read +
      tokens.cache_write_tokens * price.cache_write) /
    1e6;
  return Math.round(usd * 1e9) / 1e9;
}
