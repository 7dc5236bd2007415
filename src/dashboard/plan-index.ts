// The plan (plan.json), indexed once for the dashboard's views: tasks by id and by wave, each
// task's dependents, the critical path, and what the columns of the task list need to know.
import type { PlanJson, ResolvedTask } from '../protocol/schemas.js';
import { isAgentBackend } from '../worker/backends/registry.js';

/** The plan, indexed for the views: by id, by wave, dependents, the critical path. */
export class PlanIndex {
  readonly tasks: readonly ResolvedTask[];
  readonly byId = new Map<string, ResolvedTask>();
  /** Task id → ids of the tasks that depend on it directly, in plan order. */
  readonly dependents = new Map<string, string[]>();
  readonly critical: ReadonlySet<string>;
  readonly criticalPath: readonly string[];
  /** Task ids of each wave (DAG depth), in plan order. */
  readonly waves: readonly string[][];
  /** Whether any task has a role (else the role column is left out). */
  readonly hasRoles: boolean;
  /** Whether any task runs an agent, which costs money (else the cost column is left out). */
  readonly hasAgents: boolean;
  /** Length of the longest task id. */
  readonly maxIdLength: number;

  /** @param plan plan.json; undefined while it does not exist (a run being created): no tasks. */
  constructor(plan: PlanJson | undefined) {
    this.tasks = plan?.tasks ?? [];
    this.criticalPath = plan?.critical_path ?? [];
    this.critical = new Set(this.criticalPath);
    const waves: string[][] = [];
    let roles = false;
    let agents = false;
    let longest = 0;
    for (const t of this.tasks) {
      this.byId.set(t.id, t);
      (waves[t.wave] ??= []).push(t.id);
      for (const d of t.deps) {
        const list = this.dependents.get(d);
        if (list) list.push(t.id);
        else this.dependents.set(d, [t.id]);
      }
      roles ||= t.role !== null;
      agents ||= isAgentBackend(t.backend);
      longest = Math.max(longest, t.id.length);
    }
    this.waves = Array.from(waves, (w) => w ?? []);
    this.hasRoles = roles;
    this.hasAgents = agents;
    this.maxIdLength = longest;
  }
}
