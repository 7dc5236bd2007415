// Token usage, cost and budget, read defensively.
//
// The protocol (version 2) has `Usage` objects in state.json (`usage`, the run's total with the
// planner, and `tasks[id].usage`, summed over a task's finished attempts), in a running agent
// attempt's status.json and in result.json, plus state.json `budget`. Command tasks have none
// (`usage: null`), and runs of protocol version 1 have none at all. Everything in the dashboard
// and in `swarm status` that reads them goes through the accessors below, which take `unknown`,
// check it with the protocol's schema, and return null when it is absent or not the right shape,
// so a blank is shown rather than a wrong number.

import { UsageSchema, type Usage } from '../protocol/schemas.js';
import { StateSchema, type RunState } from '../protocol/state.js';
import { addUsage, totalTokens } from '../protocol/usage.js';
import { asPlainObject } from '../util/plain-object.js';

export type { Usage };

/** The run's caps (state.json `budget`): USD and tokens (null: no cap), and whether it ran out. */
export type Budget = Pick<RunState['budget'], 'max_cost_usd' | 'max_tokens' | 'exhausted'>;

const BudgetSchema = StateSchema.shape.budget.pick({ max_cost_usd: true, max_tokens: true, exhausted: true });

/**
 * Reads a `Usage` object; null if `value` is not one (absent, or `null` as command attempts write
 * it) or is all zeros (a task of command attempts only: nothing to show, rather than $0).
 */
export function usageOf(value: unknown): Usage | null {
  const parsed = UsageSchema.safeParse(value);
  if (!parsed.success) return null;
  const u = parsed.data;
  return totalTokens(u) === 0 && u.cost_usd === 0 ? null : u;
}

/** The `usage` field of any protocol object (state.json, one of its tasks, status.json, result.json). */
export function usageField(holder: unknown): Usage | null {
  return usageOf(asPlainObject(holder)?.usage);
}

/** Reads state.json's `budget`; null when the run has none (no cap, or a run without the field). */
export function budgetOf(state: unknown): Budget | null {
  const parsed = BudgetSchema.safeParse(asPlainObject(state)?.budget);
  if (!parsed.success) return null;
  const b = parsed.data;
  return b.max_cost_usd === null && b.max_tokens === null ? null : b;
}

/** Sums usages; null when every one is null. */
export function sumUsage(parts: readonly (Usage | null)[]): Usage | null {
  let total: Usage | null = null;
  for (const u of parts) if (u) total = total ? addUsage(total, u) : u;
  return total;
}
