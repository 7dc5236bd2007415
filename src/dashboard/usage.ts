// Token usage, cost and budget, read defensively.
//
// The protocol (version 2) has `Usage` objects in state.json (`usage`, the run's total with the
// planner, and `tasks[id].usage`, summed over a task's finished attempts), in a running agent
// attempt's status.json and in result.json, plus state.json `budget`. Command tasks have none
// (`usage: null`). Everything in the dashboard and in `swarm status` that reads them goes through
// the accessors below, which take `unknown` and return null when a field is absent or not the
// right shape, so a blank is shown rather than a wrong number.

import { totalTokens } from '../protocol/usage.js';

/** Token counts (integers) and cost (USD) of one attempt, one task or the whole run. */
export interface Usage {
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  /** US dollars; null when the backend did not report a cost. */
  cost_usd: number | null;
}

/** The run's budget (state.json `budget`): caps in USD and tokens (null: no cap), and whether it ran out. */
export interface Budget {
  max_cost_usd: number | null;
  max_tokens: number | null;
  exhausted: boolean;
}

const num = (o: Record<string, unknown>, k: string): number | null => {
  const v = o[k];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
};

const record = (value: unknown): Record<string, unknown> | null =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;

/**
 * Reads a `Usage` object; null if `value` is not an object (absent, or `null` as command attempts
 * write it) or is all zeros (a task of command attempts only: nothing to show, rather than $0).
 */
export function usageOf(value: unknown): Usage | null {
  const o = record(value);
  if (!o) return null;
  const u: Usage = {
    input_tokens: num(o, 'input_tokens') ?? 0,
    output_tokens: num(o, 'output_tokens') ?? 0,
    cache_read_tokens: num(o, 'cache_read_tokens') ?? 0,
    cache_write_tokens: num(o, 'cache_write_tokens') ?? 0,
    cost_usd: num(o, 'cost_usd'),
  };
  return totalTokens(u) === 0 && !u.cost_usd ? null : u;
}

/** The `usage` field of any protocol object (state.json, one of its tasks, status.json, result.json). */
export function usageField(holder: unknown): Usage | null {
  return usageOf(record(holder)?.usage);
}

/** Reads state.json's `budget`; null when the run has none (or the field does not exist yet). */
export function budgetOf(state: unknown): Budget | null {
  const b = record(record(state)?.budget);
  if (!b) return null;
  const budget = { max_cost_usd: num(b, 'max_cost_usd'), max_tokens: num(b, 'max_tokens'), exhausted: b.exhausted === true };
  return budget.max_cost_usd === null && budget.max_tokens === null ? null : budget;
}


/** Sums usages; null when every one is null. A cost is null only if no part has one. */
export function sumUsage(parts: readonly (Usage | null)[]): Usage | null {
  let total: Usage | null = null;
  for (const u of parts) {
    if (!u) continue;
    total ??= { input_tokens: 0, output_tokens: 0, cache_read_tokens: 0, cache_write_tokens: 0, cost_usd: null };
    total.input_tokens += u.input_tokens;
    total.output_tokens += u.output_tokens;
    total.cache_read_tokens += u.cache_read_tokens;
    total.cache_write_tokens += u.cache_write_tokens;
    if (u.cost_usd !== null) total.cost_usd = (total.cost_usd ?? 0) + u.cost_usd;
  }
  return total;
}
