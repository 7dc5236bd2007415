// Creating a run for `swarm run`: validate the config and plan, take the run directory and its lock,
// plan a goal with the LLM planner, prepare git, write plan.json and run.json. Prints nothing.
import fs from 'node:fs';
import path from 'node:path';
import { ulid } from 'ulid';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { acquireRunLock, type RunLock } from '../coordinator/run-lock.js';
import { checkGitVersion, prepareGitRun, type GitRun } from '../git/repo.js';
import { loadPlan } from '../plan/load-plan.js';
import type { ResolvedPlan } from '../plan/plan.js';
import { agentRoles } from '../plan/planner.js';
import { writeJsonAtomicSync } from '../protocol/files.js';
import { RunPaths } from '../protocol/paths.js';
import { PROTOCOL_VERSION, type PlanJson, type RunJson, type RunSource } from '../protocol/schemas.js';
import { initialState } from '../protocol/state.js';
import { err, ok, type Result } from '../util/result.js';
import { backendProblems, missingKeys, sandboxProblems, planWithTranscript, type InterruptSource } from './planning.js';
import { resolveRepo } from './repository.js';
import { PLANNING_REASON, refused, rejected, type Run, type RunFailure } from './run.js';

/** What a new run is made from: the arguments of `swarm run`. */
export interface CreateRunInput {
  /** swarm.yaml as the user named it: issues name it so; run.json records its absolute path. */
  configFile: string;
  /** `--plan FILE`: the tasks of this YAML or JSON plan instead of the config's `tasks:`. */
  plan?: string;
  /** `--run-dir`: the run directory (default `<repo>/<run.dir>/<run id>`); must be absent or empty. */
  runDir?: string;
  /** The run's id, a ULID (default: a new one); `swarm serve` names the run before it starts it. */
  runId?: string;
  /** `--workers`: the number of worker processes, overriding the config's. */
  workers?: number;
  /** `--mode`: overrides `scheduling.mode`. */
  mode?: 'eager' | 'waves';
  /** What the run is for (else the config's `goal`, else the plan file's); with no tasks, the planner splits it into tasks. */
  goal?: string;
  /** The directory to run in when the config has no `run.repo` (default: the process's current directory). */
  cwd?: string;
  /** A commit-ish to start from, overriding `git.base` (a `--repo` run's fetched base branch). */
  base?: string;
  /** `--publish`: publish at the end whatever the config's `publish.enabled` says. */
  publish?: boolean;
  /** Where the repository came from (`--repo`, `--issue`); recorded in run.json. */
  source?: RunSource;
}

/** What createRun reports as it goes, in the order `swarm run` prints it. */
export type CreateRunNote =
  /**
   * The run has an id and a directory: told before the planner starts (so that its transcript can
   * be found while it works), else once run.json is written.
   */
  | { kind: 'created'; id: string; root: string }
  /** A progress line of the planner, without a newline. */
  | { kind: 'planner'; line: string }
  /** What the user should know before the run starts (uncommitted changes the workers will not see, no repository for worktrees). */
  | { kind: 'warning'; message: string };

/** Where createRun reports to, and what may stop its planner. */
export interface CreateRunHooks {
  onNote(note: CreateRunNote): void;
  /** Stops the planner (the run is then refused as `interrupted`); default: nothing does. */
  interrupts?: InterruptSource;
}

/** A config and plan that passed every check made before anything is written. */
interface Checked {
  config: Config;
  repo: string;
  goal: string | null;
  /** The tasks to run, or undefined when the planner makes them from `goal`. */
  plan: ResolvedPlan | undefined;
  /** Run each attempt in a git worktree (git.isolation: worktree, in a repository). */
  isolate: boolean;
}

/** The run directory, created (or found empty) and locked. */
interface Claimed {
  id: string;
  paths: RunPaths;
  /** This call made the directory (so it may remove it again). */
  created: boolean;
  lock: RunLock;
}

/**
 * Creates a run: validates the config and its plan (or, given a goal and no tasks, plans one with
 * the LLM planner), creates the run directory, takes its lock, creates the integration branch
 * (git isolation) and writes plan.json, then run.json. Never prints or exits; see
 * {@link CreateRunNote} for what it reports on the way, and {@link Run} for what the caller then owns.
 *
 * @returns the run, with its lock held; or a {@link RunFailure}:
 *   - `input`: config or plan issues (file, line, column, field, message), or a goal without an
 *     agent role (at `roles`);
 *   - `refused`: `missing-key`, `git`, `run-dir`, `lock-held` (exit 2), or the planner's
 *     `planning-failed` (2), `interrupted` (130) or `budget` (3).
 *   Before the lock nothing is written. After it, every failure releases it; a failed planner
 *   leaves its planner.json (the transcript) in the run directory and nothing else, and a git
 *   failure without a planner removes the run directory if this call created it.
 * @throws on a file system error (an unwritable run directory), after releasing the lock if it held it.
 */
export async function createRun(input: CreateRunInput, hooks: CreateRunHooks): Promise<Result<Run, RunFailure>> {
  const checked = checkRunInput(input);
  if (!checked.ok) return checked;
  const claimed = await claimRunDirectory(input, checked.value);
  if (!claimed.ok) return claimed;
  const { lock } = claimed.value;
  try {
    const made = await makeRun(input, hooks, checked.value, claimed.value);
    if (!made.ok) lock.release();
    return made;
  } catch (e) {
    lock.release();
    throw e;
  }
}

/**
 * Every check that needs nothing written: config, plan, agent roles, API keys, the backends'
 * preflight, git. `swarm serve` calls it to answer a bad request before it starts a run.
 */
export function checkRunInput(input: CreateRunInput): Result<Checked, RunFailure> {
  const loaded = loadConfig(input.configFile);
  if (!loaded.ok) return err(rejected(loaded.error));
  const config = loaded.value.config;
  if (input.workers !== undefined) config.workers = input.workers;
  if (input.mode !== undefined) config.scheduling.mode = input.mode;
  if (input.base !== undefined) config.git.base = input.base;
  if (input.publish) config.publish.enabled = true;
  const target = resolveRepo(input.configFile, config, input.cwd);
  const repo = target.dir;
  let goal = input.goal ?? config.goal ?? null;
  // Plan with the LLM planner when there is a goal and no tasks (DESIGN §4); else validate the tasks.
  const planning = input.plan === undefined && config.tasks === undefined && goal !== null;
  const loadedPlan = planning ? undefined : loadPlan(loaded.value, input.plan, repo);
  if (loadedPlan && !loadedPlan.ok) return err(rejected(loadedPlan.error));
  let plan: ResolvedPlan | undefined;
  if (loadedPlan) {
    const { goal: fileGoal, ...rest } = loadedPlan.value;
    goal ??= fileGoal ?? null; // a plan file's goal (as `swarm plan` writes it) when none is given
    plan = rest;
  }
  if (planning && !agentRoles(config)) {
    return err(
      rejected([
        loaded.value.doc.issue(
          ['roles'],
          'planning a goal needs an agent role (e.g. `coder: {backend: anthropic}`), or give tasks',
        ),
      ]),
    );
  }
  const keys = missingKeys(config, planning, plan?.tasks ?? []);
  if (keys.length > 0) return err(refused('missing-key', ...keys));
  const problems = backendProblems(config, planning, plan?.tasks ?? [], repo);
  if (problems.length > 0) return err(refused('backend', ...problems));
  const sandbox = sandboxProblems(config, planning, plan?.tasks ?? [], repo);
  if (sandbox.length > 0) return err(refused('sandbox', ...sandbox));
  const isolate = config.git.isolation === 'worktree' && target.git;
  if (config.git.required && !target.git)
    return err(refused('git', `${repo} is not a git repository, and git.required is true`));
  if (isolate) {
    const version = checkGitVersion();
    if (!version.ok) return err(refused('git', version.error));
  }
  return ok({ config, repo, goal, plan, isolate });
}

/** Names the run, refuses a run directory that is a file or not empty, creates it and takes its lock. */
async function claimRunDirectory(input: CreateRunInput, checked: Checked): Promise<Result<Claimed, RunFailure>> {
  const id = input.runId ?? ulid();
  const root = input.runDir ? path.resolve(input.runDir) : path.resolve(checked.repo, checked.config.run.dir, id);
  if (fs.existsSync(root) && !fs.statSync(root).isDirectory()) {
    return err(refused('run-dir', `${root}: --run-dir names a file, not a directory`));
  }
  if (fs.existsSync(root) && fs.readdirSync(root).length > 0) {
    return err(
      refused(
        'run-dir',
        `${root}: the run directory already exists and is not empty (use \`swarm resume ${root}\` to continue a run)`,
      ),
    );
  }
  const paths = new RunPaths(root);
  const created = !fs.existsSync(root);
  fs.mkdirSync(paths.root, { recursive: true });
  const lock = await acquireRunLock(paths);
  if (!lock.ok) return err(refused('lock-held', `${root}: ${lock.error.message}`));
  // Released at most once, whichever failure path gets to it first.
  let held = true;
  const release = (): void => {
    if (held) lock.value.release();
    held = false;
  };
  return ok({ id, paths, created, lock: { release } });
}

/**
 * What follows the lock: the planner (without tasks), the integration branch, plan.json and
 * run.json. The caller releases the lock when this fails (a second release does nothing).
 */
async function makeRun(
  input: CreateRunInput,
  hooks: CreateRunHooks,
  checked: Checked,
  claimed: Claimed,
): Promise<Result<Run, RunFailure>> {
  const { config, repo, goal, plan, isolate } = checked;
  const { id, paths, created, lock } = claimed;
  let resolved: ResolvedPlan;
  let planner: PlanJson['planner'] = null;
  if (plan) {
    resolved = plan;
  } else {
    hooks.onNote({ kind: 'created', id, root: paths.root });
    const planned = await planWithTranscript(config, goal!, repo, paths.plannerJson, {
      onProgress: (line) => hooks.onNote({ kind: 'planner', line }),
      interrupts: hooks.interrupts,
    });
    if (!planned.ok) {
      // The run directory keeps planner.json (the transcript) and nothing else.
      const { message, why } = planned.error;
      const messages =
        why === 'interrupted'
          ? [`${message}; nothing was run`]
          : why === 'budget'
            ? [message, `nothing was run: raise the budget in ${input.configFile} and run again`]
            : [message];
      return err(refused(PLANNING_REASON[why], ...messages));
    }
    resolved = planned.value.plan;
    planner = {
      model: planned.value.transcript.model,
      requests: planned.value.transcript.turns.length,
      usage: planned.value.transcript.usage,
    };
  }

  let git: GitRun | undefined;
  if (isolate) {
    const prepared = prepareGitRun(repo, id, {
      base: config.git.base,
      includeUncommitted: config.git.include_uncommitted,
    });
    if (!prepared.ok) {
      lock.release();
      // Nothing but the lock (and the planner's transcript) was written.
      if (created && !planner) fs.rmSync(paths.root, { recursive: true, force: true });
      return err(refused('git', prepared.error));
    }
    git = prepared.value.git;
    for (const w of prepared.value.warnings) hooks.onNote({ kind: 'warning', message: w });
  } else if (config.git.isolation === 'worktree') {
    hooks.onNote({
      kind: 'warning',
      message: `${repo} is not a git repository: tasks run in place, without worktrees (set git.isolation: none to silence this)`,
    });
  }

  const { tasks: _tasks, ...configSnapshot } = config;
  const planJson: PlanJson = { protocol: PROTOCOL_VERSION, ...resolved, planner };
  const runJson: RunJson = {
    protocol: PROTOCOL_VERSION,
    id,
    goal,
    created_at: new Date().toISOString(),
    config_file: path.resolve(input.configFile),
    config: configSnapshot,
    repo,
    base_commit: git?.base ?? null,
    integration_branch: git?.branch ?? null,
    source: input.source ?? null,
  };
  // plan.json before run.json: a directory with run.json always has its plan.
  writeJsonAtomicSync(paths.planJson, planJson);
  writeJsonAtomicSync(paths.runJson, runJson);
  if (!planner) hooks.onNote({ kind: 'created', id, root: paths.root });
  return ok({
    command: 'run',
    paths,
    runJson,
    planJson,
    state: initialState(),
    lock,
    retryFailed: false,
    appliedRequests: new Set(),
    budget: undefined,
  });
}
