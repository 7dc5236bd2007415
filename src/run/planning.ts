// Running the planner for `swarm run <config> "<goal>"` and `swarm plan`: API key checks, what stops
// the planner, progress lines, and the transcript written whatever the outcome. Prints nothing.
import path from 'node:path';
import type { Config } from '../config/schema.js';
import { agentRoles } from '../plan/agent-roles.js';
import type { Planned } from '../plan/planner.js';
import { writeJsonAtomicSync } from '../protocol/files.js';
import type { ResolvedTask } from '../protocol/schemas.js';
import { makeDirs } from '../util/make-dirs.js';
import { err, type Result } from '../util/result.js';
import type { EnvNeed } from '../worker/backends/descriptor.js';
import { preflight, requiredEnv } from '../worker/backends/registry.js';
import { sandboxProblems as sandboxPreflight } from '../worker/sandbox/preflight.js';

/**
 * The API keys a run needs and the environment lacks, as messages naming the variable and the
 * config key that names it: the planner's (when planning, with every agent role's it may use) and
 * what each task's role needs (its backend's `requiredEnv` in the registry).
 */
export function missingKeys(
  config: Config,
  planning: boolean,
  tasks: readonly ResolvedTask[],
  env: NodeJS.ProcessEnv = process.env,
): string[] {
  const need = new Map<string, EnvNeed>(); // variable → the first config key that names it
  const add = (n: EnvNeed): void => void (need.has(n.variable) || need.set(n.variable, n));
  if (planning) {
    add({ variable: config.planner.api_key_env, key: 'planner.api_key_env', holds: 'the Anthropic API key' });
    for (const role of agentRoles(config) ?? []) requiredEnv(role, config.roles[role]!).forEach(add);
  }
  for (const t of tasks) if (t.role !== null) requiredEnv(t.role, config.roles[t.role]!).forEach(add);
  const resolver = conflictResolver(config);
  if (resolver) requiredEnv(resolver, config.roles[resolver]!).forEach(add);
  return [...need.values()]
    .filter((n) => !env[n.variable])
    .map(
      (n) =>
        `the environment variable ${n.variable} is not set: it holds ${n.holds} (${n.key}); keys are never read from the YAML`,
    );
}

/** The role that resolves merge conflicts (`merge.on_conflict: resolve` with a `resolver`), if any. */
export function conflictResolver(config: Config): string | undefined {
  return config.merge.on_conflict === 'resolve' && config.merge.resolver && config.merge.resolver in config.roles
    ? config.merge.resolver
    : undefined;
}

/**
 * What the backends of the roles a run uses need beyond keys (a CLI installed and new enough), as
 * messages that say how to fix each: every agent role's when planning (the planner may give it a
 * task), and each task's role's. A role is checked once.
 * @param repo the repository the run works on (absolute)
 */
export function backendProblems(
  config: Config,
  planning: boolean,
  tasks: readonly ResolvedTask[],
  repo: string,
): string[] {
  const roles = new Set<string>(planning ? (agentRoles(config) ?? []) : []);
  for (const t of tasks) if (t.role !== null) roles.add(t.role);
  const resolver = conflictResolver(config);
  if (resolver) roles.add(resolver);
  return [...roles].flatMap((name) => preflight(name, config.roles[name]!, repo));
}

/**
 * What stops the run's sandboxes (bubblewrap missing or unable to make one, a `writable` path that
 * does not exist), as messages that say what to do; [] when no task (nor, when planning, any agent
 * role the planner may use) runs in a sandbox. Runs a trial sandbox.
 * @param repo the repository the run works on (absolute)
 */
export function sandboxProblems(
  config: Config,
  planning: boolean,
  tasks: readonly ResolvedTask[],
  repo: string,
): string[] {
  const resolver = conflictResolver(config);
  const roles = [...(planning ? (agentRoles(config) ?? []) : []), ...(resolver ? [resolver] : [])];
  const plannedRoles = roles.map((role) => ({ role, backend: config.roles[role]!.backend }));
  return sandboxPreflight({ settings: config, repo, tasks, plannedRoles });
}

/** Why planning gave no plan: a message for the user, and why (which sets the exit code). */
export interface PlanningStopped {
  message: string;
  /** `cannot-start`: no client, no valid plan, or an API error; `interrupted`: Ctrl-C; `budget`: the run's budget ran out. */
  why: 'cannot-start' | 'interrupted' | 'budget';
}

/**
 * Where a request to stop the planner comes from while it runs: called with the function that
 * stops it as the planner starts, it returns the function to call as the planner ends. The CLI
 * listens to SIGINT for exactly that window (outside it, Ctrl-C keeps its default and ends the
 * process at once); a long-lived caller binds its own abort, and one that passes none cannot stop it.
 */
export type InterruptSource = (stop: () => void) => () => void;

/** What the planner reports to, and what may stop it. */
export interface PlanningHooks {
  /** Each progress line, without a newline: before each request and after each answer. */
  onProgress(line: string): void;
  /** Stops the planner (its outcome is then `interrupted`); default: nothing does. */
  interrupts?: InterruptSource;
  /** The transcript's path as messages name it (default `transcriptFile`): where it will be once its run directory is in place. */
  transcriptName?: string;
}

/**
 * Plans `goal`, reporting progress to `hooks.onProgress`, and writes the planner's transcript to
 * `transcriptFile` in every case (planned, invalid, API error, interrupted). Returns the plan, or a
 * message for the user that lists the last answer's problems and where the transcript is.
 * @throws on a file system error writing the transcript (a bad plan or an API failure is a result).
 */
export async function planWithTranscript(
  config: Config,
  goal: string,
  repo: string,
  transcriptFile: string,
  hooks: PlanningHooks,
): Promise<Result<Planned, PlanningStopped>> {
  // The model SDK is loaded only when a run is planned (it is most of the CLI's start-up otherwise).
  const [{ makeClient }, { planGoal }] = await Promise.all([import('../llm/client.js'), import('../plan/planner.js')]);
  const client = makeClient(config.planner);
  if (!client.ok) return err({ message: client.error, why: 'cannot-start' });
  const controller = new AbortController();
  const stopListening = hooks.interrupts?.(() => controller.abort(new Error('interrupted')));
  try {
    const result = await planGoal({
      goal,
      config,
      repo,
      client: client.value,
      signal: controller.signal,
      onProgress: hooks.onProgress,
    });
    const transcript = result.ok ? result.value.transcript : result.error.transcript;
    makeDirs(path.dirname(transcriptFile));
    writeJsonAtomicSync(transcriptFile, transcript);
    if (result.ok) return result;
    const problems = result.error.errors.map((e) => `\n  - ${e}`).join('');
    const why =
      transcript.outcome === 'interrupted'
        ? 'interrupted'
        : transcript.outcome === 'budget-exhausted'
          ? 'budget'
          : 'cannot-start';
    const shown = hooks.transcriptName ?? transcriptFile;
    return err({ message: `${result.error.message}${problems}\nthe planner's transcript: ${shown}`, why });
  } finally {
    stopListening?.();
  }
}
