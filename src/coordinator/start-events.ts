// The events that open a coordinator session: a new run's, or a resumed run's.
import type { PlanJson, RunJson } from '../protocol/schemas.js';
import { HOST } from '../util/process.js';
import type { EventLog } from './event-log.js';

/** Events of a new run: run.started (with the caps and the planner's usage) and plan.created. */
export function startEvents(log: EventLog, run: RunJson, plan: PlanJson): void {
  const budget = {
    max_cost_usd: run.config.budget.max_cost_usd ?? null,
    max_tokens: run.config.budget.max_tokens ?? null,
  };
  log.append({
    type: 'run.started',
    run_id: run.id,
    goal: run.goal,
    pid: process.pid,
    host: HOST,
    base_commit: run.base_commit,
    integration_branch: run.integration_branch,
    budget,
    planner_usage: plan.planner?.usage ?? null,
  });
  log.append(planCreated(plan));
}

/** What a resume changes besides picking up where the run was. */
export interface ResumeChanges {
  /** Put failed, cancelled and skipped tasks back to pending. */
  retryFailed?: boolean;
  /** New run caps (`swarm resume --max-cost-usd / --max-tokens`). */
  budget?: { max_cost_usd?: number; max_tokens?: number };
}

/** Events of a resumed run: run.resumed, new caps, the plan if a crash came before it, resets for --retry-failed. */
export function resumeEvents(log: EventLog, plan: PlanJson, changes: ResumeChanges): void {
  log.append({ type: 'run.resumed', pid: process.pid, host: HOST, retry_failed: Boolean(changes.retryFailed) });
  const raise = changes.budget;
  if (raise && (raise.max_cost_usd !== undefined || raise.max_tokens !== undefined)) {
    const b = log.state.budget;
    log.append({
      type: 'budget.changed',
      max_cost_usd: raise.max_cost_usd ?? b.max_cost_usd,
      max_tokens: raise.max_tokens ?? b.max_tokens,
    });
  }
  // The crash came between run.started and plan.created.
  if (Object.keys(log.state.tasks).length === 0) log.append(planCreated(plan));
  if (changes.retryFailed) {
    for (const [id, t] of Object.entries(log.state.tasks))
      if (t.state === 'failed' || t.state === 'cancelled' || t.state === 'skipped')
        log.append({ type: 'task.reset', task: id });
  }
}

function planCreated(plan: PlanJson) {
  return {
    type: 'plan.created',
    tasks: plan.tasks.map((t) => t.id),
    waves: plan.waves,
    critical_path: plan.critical_path,
  } as const;
}
