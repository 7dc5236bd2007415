// Spend against the run's budget: the cost so far (finished attempts, the planner, and running
// attempts' reported usage) against `budget.max_cost_usd`, and the tokens against `max_tokens`.
import { formatCost, formatTokens } from './format';
import type { Budget, Usage } from './types';

/** All the tokens of a usage (input, output, cache reads and writes). */
function tokensOf(u: Usage): number {
  return u.input_tokens + u.output_tokens + u.cache_read_tokens + u.cache_write_tokens;
}

function Meter({ label, used, cap, text }: { label: string; used: number; cap: number; text: string }) {
  const pct = cap > 0 ? Math.min(100, (used / cap) * 100) : 100;
  const tone = pct >= 95 ? 'bad' : pct >= 80 ? 'warn' : 'good';
  return (
    <div className="meter" data-testid={`budget-${label}`}>
      <span className="meter-label">{label}</span>
      <div
        className="meter-bar"
        role="meter"
        aria-label={`${label} spent`}
        aria-valuemin={0}
        aria-valuemax={cap}
        aria-valuenow={used}
      >
        <span className={`meter-fill tone-${tone}`} style={{ width: `${pct}%` }} />
      </div>
      <span className="meter-text">{text}</span>
    </div>
  );
}

/** The spend; `usage` null when nothing reported any (command tasks), `budget` null when the run has no cap. */
export function BudgetBar({ usage, budget }: { usage: Usage | null; budget: Budget | null }) {
  const cost = usage?.cost_usd ?? 0;
  const tokens = usage ? tokensOf(usage) : 0;
  return (
    <div className="budget" data-testid="budget">
      {budget?.max_cost_usd != null && (
        <Meter
          label="cost"
          used={cost}
          cap={budget.max_cost_usd}
          text={`${formatCost(cost)} of ${formatCost(budget.max_cost_usd)}`}
        />
      )}
      {budget?.max_tokens != null && (
        <Meter
          label="tokens"
          used={tokens}
          cap={budget.max_tokens}
          text={`${formatTokens(tokens)} of ${formatTokens(budget.max_tokens)}`}
        />
      )}
      {budget === null && (
        <span className="muted">
          spent {usage ? `${formatCost(cost)} (${formatTokens(tokens)} tokens)` : 'nothing on models'}; no budget
        </span>
      )}
      {budget?.exhausted && (
        <span className="badge phase-bad" role="status">
          budget exhausted: resume with a higher cap
        </span>
      )}
    </div>
  );
}
