// The coordinator's side of the run budget (DESIGN §5): what is spent and reserved, the caps each
// agent attempt gets at dispatch, and the warning and exhaustion events. budget.ts does the sums.
import { known, readAssignment, readAttemptStatus } from '../protocol/attempt-files.js';
import type { RunPaths } from '../protocol/paths.js';
import type { RunState } from '../protocol/state.js';
import type { AgentSpec, Usage } from '../protocol/schemas.js';
import { totalTokens } from '../protocol/usage.js';
import { newWarnings, nextAttemptCaps, type AttemptCaps, type Spend } from './budget.js';
import type { EventLog } from './event-log.js';
import type { InFlightAttempts } from './in-flight.js';

/** The caps an agent attempt was granted, and where each came from. */
export type GrantedCaps = Extract<AttemptCaps, { kind: 'ok' }>;

/** What an attempt reserves of the budget while it runs: an agent's caps (a command reserves nothing). */
export function reservation(agent: AgentSpec | null): Spend | undefined {
  return agent ? { usd: agent.max_cost_usd ?? 0, tokens: agent.max_tokens ?? 0 } : undefined;
}

/** Budget warnings are checked at most this often: each check reads a file per running agent attempt. */
const CHECK_EVERY_MS = 1000;

export class BudgetLedger {
  readonly #log: EventLog;
  readonly #paths: RunPaths;
  readonly #inFlight: InFlightAttempts;
  #lastCheck = 0;

  constructor(log: EventLog, paths: RunPaths, inFlight: InFlightAttempts) {
    this.#log = log;
    this.#paths = paths;
    this.#inFlight = inFlight;
  }

  /** What an adopted attempt reserved: the caps in its assignment.json. */
  reservationOf(task: string, attempt: number): Spend | undefined {
    return reservation(known(readAssignment(this.#paths, task, attempt))?.agent ?? null);
  }

  /** The usage a running agent attempt last reported in its status.json, if any. */
  liveUsage(task: string, attempt: number): Usage | undefined {
    return known(readAttemptStatus(this.#paths, task, attempt))?.usage ?? undefined;
  }

  /** Spent (planner and finished attempts) plus reserved by running attempts: what the budget cannot give again. */
  committed(): Spend {
    const u = this.#log.state.usage;
    const out = { usd: u.cost_usd, tokens: totalTokens(u) };
    for (const f of this.#inFlight.list()) {
      out.usd += f.reserved?.usd ?? 0;
      out.tokens += f.reserved?.tokens ?? 0;
    }
    return out;
  }

  /**
   * The budget of one dispatch: what is left of it is shared among the `share` agent attempts
   * that can start now (at least 1).
   */
  forDispatch(share: number): DispatchBudget {
    return new DispatchBudget(this.#log.state.budget, this.committed(), share);
  }

  /** Spend changed (a result with usage): check the warnings on the next call of `warn`. */
  checkSoon(): void {
    this.#lastCheck = 0;
  }

  /**
   * Budget warnings at 50/80/95 % of a cap, counting what running agent attempts have spent so far
   * (their status.json). Checked at most once a second.
   */
  warn(): void {
    const b = this.#log.state.budget;
    if (b.max_cost_usd === null && b.max_tokens === null) return;
    const now = Date.now();
    if (now - this.#lastCheck < CHECK_EVERY_MS) return;
    this.#lastCheck = now;
    const u = this.#log.state.usage;
    const spent = { usd: u.cost_usd, tokens: totalTokens(u) };
    for (const f of this.#inFlight.list()) {
      if (!f.reserved) continue;
      const live = this.liveUsage(f.task, f.attempt);
      if (live) {
        spent.usd += live.cost_usd;
        spent.tokens += totalTokens(live);
      }
    }
    for (const percent of newWarnings(b, spent, b.warned)) {
      this.#log.append({
        type: 'budget.warning',
        percent,
        cost_usd: Math.round(spent.usd * 1e6) / 1e6,
        tokens: spent.tokens,
      });
    }
  }

  /** Records budget.exhausted with the spend so far: no agent attempt starts until a resume raises a cap. */
  exhaust(): void {
    const b = this.#log.state.budget;
    const spent = this.#log.state.usage;
    this.#log.append({
      type: 'budget.exhausted',
      cost_usd: spent.cost_usd,
      tokens: totalTokens(spent),
      max_cost_usd: b.max_cost_usd,
      max_tokens: b.max_tokens,
    });
  }
}

/**
 * Hands out caps to the agent attempts of one dispatch, in turn: each grant counts as committed
 * for the next, and what is left is shared among the ones still to start.
 */
export class DispatchBudget {
  readonly #run: RunState['budget'];
  readonly #committed: Spend;
  #share: number;
  /** Set once an agent attempt could not be given caps. */
  blocked = false;

  constructor(run: RunState['budget'], committed: Spend, share: number) {
    this.#run = run;
    this.#committed = committed;
    this.#share = share;
  }

  /**
   * The caps of the next agent attempt, of a role with caps of its own (`max_cost_usd`,
   * `max_tokens`); undefined if the budget cannot cover one, or once it is exhausted (until a
   * resume raises it).
   */
  grant(role: { max_cost_usd?: number; max_tokens?: number }): GrantedCaps | undefined {
    if (this.#run.exhausted) return undefined;
    const caps = nextAttemptCaps(this.#run, this.#committed, this.#share, {
      max_cost_usd: role.max_cost_usd ?? null,
      max_tokens: role.max_tokens ?? null,
    });
    if (caps.kind === 'exhausted') {
      this.blocked = true;
      return undefined;
    }
    this.#committed.usd += caps.caps.max_cost_usd ?? 0;
    this.#committed.tokens += caps.caps.max_tokens ?? 0;
    this.#share = Math.max(1, this.#share - 1); // what is left is shared among the ones still to start
    return caps;
  }
}
