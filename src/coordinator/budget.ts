// Run budgets (DESIGN §5): what the next agent attempt may spend, and when to warn. Pure functions
// over numbers; the coordinator feeds them the state and what running attempts have reserved.
import { BUDGET_WARNINGS, MIN_ATTEMPT_BUDGET } from '../config/defaults.js';

/** Caps on spend: USD and tokens (input + output + cache); null means no cap. */
export interface Caps {
  max_cost_usd: number | null;
  max_tokens: number | null;
}

/** An amount spent or reserved. */
export interface Spend {
  usd: number;
  tokens: number;
}

/** Where each of an attempt's caps came from (null: no cap). */
export interface CapSources {
  cost: 'role' | 'budget' | null;
  tokens: 'role' | 'budget' | null;
}

/** The caps of the next agent attempt, or why none can start. */
export type AttemptCaps =
  | { kind: 'ok'; caps: Caps; source: CapSources }
  /** Less than MIN_ATTEMPT_BUDGET is left of a run cap once spend and reservations are counted. */
  | { kind: 'exhausted'; cap: 'cost' | 'tokens' };

const min = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.min(a, b));

/**
 * What the next agent attempt may spend. Each running attempt reserves its own caps, so the run
 * cap can only be crossed by what an attempt spends beyond its cap (at most one model response's
 * misestimate; see the agent loop). The part of the run budget not yet spent or reserved is shared
 * among the `share` attempts about to start (the free worker slots with agent tasks ready), so the
 * first dispatch does not take it all; a role's own cap applies when it is smaller.
 *
 * @param run the run's caps (budget.* of the config, or as raised on resume)
 * @param committed spent by finished attempts and the planner, plus reserved by running attempts
 * @param share how many attempts are being started now (≥ 1)
 * @param role the role's per-attempt caps (max_cost_usd, max_tokens)
 */
export function nextAttemptCaps(run: Caps, committed: Spend, share: number, role: Caps): AttemptCaps {
  const n = Math.max(1, share);
  const fromBudget: Caps = { max_cost_usd: null, max_tokens: null };
  if (run.max_cost_usd !== null) {
    const left = run.max_cost_usd - committed.usd;
    if (left < MIN_ATTEMPT_BUDGET.usd) return { kind: 'exhausted', cap: 'cost' };
    fromBudget.max_cost_usd = Math.min(left, Math.max(MIN_ATTEMPT_BUDGET.usd, left / n));
  }
  if (run.max_tokens !== null) {
    const left = run.max_tokens - committed.tokens;
    if (left < MIN_ATTEMPT_BUDGET.tokens) return { kind: 'exhausted', cap: 'tokens' };
    fromBudget.max_tokens = Math.min(left, Math.max(MIN_ATTEMPT_BUDGET.tokens, Math.floor(left / n)));
  }
  const caps: Caps = {
    max_cost_usd: min(role.max_cost_usd, fromBudget.max_cost_usd),
    max_tokens: min(role.max_tokens, fromBudget.max_tokens),
  };
  const from = (cap: number | null, own: number | null): CapSources['cost'] =>
    cap === null ? null : cap === own ? 'role' : 'budget';
  return {
    kind: 'ok',
    caps,
    source: { cost: from(caps.max_cost_usd, role.max_cost_usd), tokens: from(caps.max_tokens, role.max_tokens) },
  };
}

/**
 * The warning thresholds (50, 80, 95 %) that `spent` has crossed on either cap and that were not
 * given yet (`warned`), in increasing order.
 */
export function newWarnings(run: Caps, spent: Spend, warned: readonly number[]): number[] {
  const pct = Math.max(
    run.max_cost_usd ? (100 * spent.usd) / run.max_cost_usd : 0,
    run.max_tokens ? (100 * spent.tokens) / run.max_tokens : 0,
  );
  return BUDGET_WARNINGS.filter((p) => pct >= p && !warned.includes(p));
}
