// The one plan validator (DESIGN §4): every plan, from swarm.yaml, a plan file or a planner,
// goes through validatePlan before anything is written.
import { DEFAULTS, PLAN_LIMITS } from '../config/defaults.js';
import type { Config, TaskSpec } from '../config/schema.js';
import type { ResolvedTask } from '../protocol/schemas.js';
import { suggest } from '../config/zod-issues.js';
import { DEFAULT_BACKEND, isAgentBackend } from '../worker/backends/registry.js';
import { err, ok, type Result } from '../util/result.js';
import { argumentProblem } from '../util/exec-limits.js';
import { analyzeDag, findCycles } from './graph.js';
import { repoPathProblem } from './repo-path.js';

export type { ResolvedTask };

/** A validated plan, in the order the user wrote it (the body of plan.json). */
export interface ResolvedPlan {
  tasks: ResolvedTask[];
  /** Ids along the critical path (by estimates). */
  critical_path: string[];
  /** Number of waves (DAG depth + 1). */
  waves: number;
}

/** A problem with a plan. `path` is relative to the task list: `[2, 'deps', 0]` is tasks[2].deps[0]. */
export interface PlanIssue {
  path: (string | number)[];
  message: string;
}

/** The parts of the config that plan validation reads. */
export type PlanContext = Pick<Config, 'roles' | 'scheduling'>;

/**
 * Validates a task list (already shaped by the zod TaskSpec schema) and resolves it into a plan.
 * Checks, in order: non-empty and size limits; unique ids; known, non-repeated, non-self deps;
 * `files` and `cwd` relative and inside the repository; known roles and a runnable backend; no
 * cycles (each cycle named `a → b → a`).
 * Returns every issue found, not only the first.
 */
export function validatePlan(tasks: readonly TaskSpec[], context: PlanContext): Result<ResolvedPlan, PlanIssue[]> {
  const issues: PlanIssue[] = [];
  if (tasks.length === 0) return err([{ path: [], message: 'the plan has no tasks' }]);
  if (tasks.length > PLAN_LIMITS.maxTasks) {
    return err([{ path: [], message: `the plan has ${tasks.length} tasks; the limit is ${PLAN_LIMITS.maxTasks}` }]);
  }

  const firstIndex = new Map<string, number>();
  tasks.forEach((t, i) => {
    const first = firstIndex.get(t.id);
    if (first === undefined) firstIndex.set(t.id, i);
    else issues.push({ path: [i, 'id'], message: `duplicate task id "${t.id}" (first used by tasks[${first}])` });
  });
  const ids = [...firstIndex.keys()];

  const roleNames = Object.keys(context.roles);
  tasks.forEach((t, i) => {
    const seen = new Set<string>();
    t.deps.forEach((d, k) => {
      if (d === t.id) issues.push({ path: [i, 'deps', k], message: `task "${t.id}" depends on itself` });
      else if (!firstIndex.has(d)) {
        const near = suggest(d, ids);
        issues.push({
          path: [i, 'deps', k],
          message: `unknown task "${d}"${near ? ` (did you mean "${near}"?)` : ''}`,
        });
      } else if (seen.has(d)) issues.push({ path: [i, 'deps', k], message: `dependency "${d}" is listed twice` });
      seen.add(d);
    });
    t.files?.forEach((f, k) => {
      const problem = repoPathProblem(f);
      if (problem) issues.push({ path: [i, 'files', k], message: problem });
    });
    const cwdProblem = t.cwd === undefined ? undefined : repoPathProblem(t.cwd);
    if (cwdProblem) issues.push({ path: [i, 'cwd'], message: cwdProblem });
    // Each is one argument of `sh -c`.
    for (const key of ['run', 'verify'] as const) {
      const problem = t[key] === undefined ? undefined : argumentProblem(`\`${key}\``, t[key]);
      if (problem) issues.push({ path: [i, key], message: problem });
    }
    if (t.role !== undefined && !(t.role in context.roles)) {
      const near = suggest(t.role, roleNames);
      const known = roleNames.length ? `known roles: ${roleNames.join(', ')}` : 'the config defines no roles';
      issues.push({
        path: [i, 'role'],
        message: `unknown role "${t.role}"${near ? ` (did you mean "${near}"?)` : ` (${known})`}`,
      });
      return;
    }
    const backend = t.role === undefined ? DEFAULT_BACKEND : context.roles[t.role]!.backend;
    if (isAgentBackend(backend)) {
      if (t.run !== undefined)
        issues.push({
          path: [i, 'run'],
          message: `role "${t.role}" is an agent role (backend: ${backend}): its tasks take a \`description\`, not \`run:\``,
        });
      if (!t.description?.trim())
        issues.push({
          path: [i, 'description'],
          message: `task "${t.id}" has an agent role ("${t.role}") and needs a \`description\`: the agent's instructions`,
        });
    } else if (t.run === undefined) {
      const why =
        t.role === undefined
          ? 'a task needs `run:` (a shell command) or a `role:`'
          : `role "${t.role}" uses the ${backend} backend, which needs \`run:\``;
      issues.push({ path: [i], message: why });
    }
  });
  if (issues.length > 0) return err(issues);

  const graphTasks = tasks.map((t) => ({ id: t.id, deps: t.deps, estimate: t.estimate ?? DEFAULTS.estimate }));
  const cycles = findCycles(graphTasks);
  if (cycles.length > 0) {
    return err(
      cycles.map((c) => ({ path: [firstIndex.get(c[0]!)!, 'deps'], message: `dependency cycle: ${c.join(' → ')}` })),
    );
  }

  const dag = analyzeDag(graphTasks);
  const resolved = tasks.map((t): ResolvedTask => {
    const role = t.role === undefined ? undefined : context.roles[t.role];
    return {
      id: t.id,
      title: t.title ?? t.id,
      description: t.description ?? '',
      deps: [...t.deps],
      role: t.role ?? null,
      backend: role?.backend ?? DEFAULT_BACKEND,
      run: t.run ?? null,
      cwd: t.cwd ?? null,
      env: { ...role?.env, ...t.env },
      files: t.files ?? [],
      verify: t.verify ?? null,
      estimate: t.estimate ?? DEFAULTS.estimate,
      timeout_ms: t.timeout ?? role?.timeout ?? context.scheduling.timeout,
      retries: t.retries ?? role?.retries ?? context.scheduling.retries,
      wave: dag.wave.get(t.id)!,
      rank: dag.rank.get(t.id)!,
    };
  });
  const waves = 1 + Math.max(...resolved.map((t) => t.wave));
  return ok({ tasks: resolved, critical_path: dag.criticalPath, waves });
}
