// Creating a run for `swarm run`: validate the config and plan, build the run directory under a
// temporary name (its lock, the planner's transcript, the integration branch, plan.json, run.json)
// and rename it into place. Prints nothing.
import { isAgentBackend } from '../worker/backends/registry.js';
import fs from 'node:fs';
import path from 'node:path';
import { launcherProblems, launcherReachable } from '../coordinator/launchers/preflight.js';
import { ulid } from 'ulid';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { crashPoint } from '../coordinator/crash-point.js';
import { acquireRunLock, heldRunLock, type RunLock } from '../coordinator/run-lock.js';
import { gitTrySync } from '../git/git.js';
import { gitInstalled } from '../git/git.js';
import { checkGitVersion, excludeSwarmDir, gitMissing, prepareGitRun, type GitRun } from '../git/repo.js';
import { loadPlan } from '../plan/load-plan.js';
import type { ResolvedPlan } from '../plan/plan.js';
import { agentRoles } from '../plan/agent-roles.js';
import { writeJsonAtomicSync } from '../protocol/files.js';
import { creatingDir, RunPaths } from '../protocol/paths.js';
import {
  PROTOCOL_VERSION,
  type CreatingJson,
  type PlanJson,
  type RunJson,
  type RunSource,
} from '../protocol/schemas.js';
import { initialState } from '../protocol/state.js';
import { fsErrorPhrase, makeDirs } from '../util/make-dirs.js';
import { err, ok, type Result } from '../util/result.js';
import { creationMessage, findCreation } from './interrupted-creation.js';
import { backendProblems, missingKeys, planWithTranscript, sandboxProblems, type InterruptSource } from './planning.js';
import { integrationBranch } from '../git/layout.js';
import { resolveRepo } from './repository.js';
import { PLANNING_REASON, refused, rejected, type Run, type RunFailure } from './run.js';

/** What a new run is made from: the arguments of `swarm run`. */
export interface CreateRunInput {
  /** swarm.yaml as the user named it: issues name it so; run.json records its absolute path. */
  configFile: string;
  /** `--plan FILE`: the tasks of this YAML or JSON plan instead of the config's `tasks:`. */
  plan?: string;
  /** `--run-dir`: the run directory (default `<repo>/<run.dir>/<run id>`); must be absent or empty, and ends up at exactly this path. */
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
   * The run has an id and a directory: told before the planner starts (the directory is then still
   * under its temporary name, and gets the planner's transcript even if planning fails), else once
   * the complete directory is in place.
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
  /** `repo` is (the top level of) a git repository. */
  git: boolean;
  goal: string | null;
  /** The tasks to run, or undefined when the planner makes them from `goal`. */
  plan: ResolvedPlan | undefined;
  /** Run each attempt in a git worktree (git.isolation: worktree, in a repository). */
  isolate: boolean;
}

/**
 * The run directory being built under its temporary name (`.<name>.creating` beside it), locked,
 * with its creating.json written.
 */
interface Claimed {
  id: string;
  /** Where the run directory goes once it is complete. */
  paths: RunPaths;
  /** The temporary directory it is built in. */
  building: RunPaths;
  /** The lock of `building`. */
  lock: RunLock;
  /** The integration branch, once this call has created it (deleted again if the run is abandoned). */
  branch?: { repo: string; name: string };
}

/**
 * Creates a run: validates the config and its plan (or, given a goal and no tasks, plans one with
 * the LLM planner), adds `.swarm/` to the repository's info/exclude, builds the run directory
 * under a temporary name beside it (`.<name>.creating`: its lock, creating.json, the planner's
 * transcript, the integration branch (git isolation), plan.json, then run.json) and renames it
 * into place, so that a directory at the run's path is always complete. Never prints or exits;
 * see {@link CreateRunNote} for what it reports on the way, and {@link Run} for what the caller
 * then owns.
 *
 * @returns the run, with its lock held; or a {@link RunFailure}:
 *   - `input`: config or plan issues (file, line, column, field, message), or a goal without an
 *     agent role (at `roles`);
 *   - `refused`: `missing-key`, `git`, `run-dir` (a path that is a file, not empty, being created
 *     by another `swarm run` or left by a killed one, or where a directory cannot be created or
 *     written: the message names it), `lock-held` (exit 2), or the planner's `planning-failed`
 *     (2), `interrupted` (130) or `budget` (3).
 *   Before the temporary directory nothing is written but the exclude line. On any failure after
 *   it, the branch this call created is deleted and the temporary directory removed, except that
 *   a planner's transcript is kept: the run directory then holds planner.json and nothing else.
 * @throws only an error that is not the file system's (a bug), after undoing what it wrote.
 */
export async function createRun(input: CreateRunInput, hooks: CreateRunHooks): Promise<Result<Run, RunFailure>> {
  const checked = checkRunInput(input);
  if (!checked.ok) return checked;
  const cluster = await launcherReachable(checked.value.config.launcher);
  if (cluster.length > 0) return err(refused('launcher', ...cluster));
  const claimed = await claimRunDirectory(input, checked.value);
  if (!claimed.ok) return claimed;
  try {
    const made = await makeRun(input, hooks, checked.value, claimed.value);
    if (!made.ok) abandon(claimed.value);
    return made;
  } catch (e) {
    abandon(claimed.value);
    if (isFsError(e)) return err(cannotWrite(claimed.value.paths.root, e));
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
  // Without git, a repository would look like a plain directory and its tasks would run in place.
  if ((config.git.isolation === 'worktree' || config.git.required) && !gitInstalled())
    return err(refused('git', gitMissing()));
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
  const resolver = config.merge.resolver;
  if (resolver !== undefined) {
    const role = config.roles[resolver];
    const problem = !role
      ? `unknown role "${resolver}" (${Object.keys(config.roles).join(', ') || 'the config defines no roles'})`
      : !isAgentBackend(role.backend)
        ? `role "${resolver}" uses the ${role.backend} backend; a conflict resolver must be an agent role`
        : undefined;
    if (problem) return err(rejected([loaded.value.doc.issue(['merge', 'resolver'], problem)]));
  }
  const keys = missingKeys(config, planning, plan?.tasks ?? []);
  if (keys.length > 0) return err(refused('missing-key', ...keys));
  const problems = backendProblems(config, planning, plan?.tasks ?? [], repo);
  if (problems.length > 0) return err(refused('backend', ...problems));
  const sandbox = sandboxProblems(config, planning, plan?.tasks ?? [], repo);
  if (sandbox.length > 0) return err(refused('sandbox', ...sandbox));
  const runDir = input.runDir ? path.resolve(input.runDir) : undefined;
  const launcher = launcherProblems(config.launcher, { repo, ...(runDir ? { runDir } : {}) });
  if (launcher.length > 0) return err(refused('launcher', ...launcher));
  const isolate = config.git.isolation === 'worktree' && target.git;
  if (config.git.required && !target.git)
    return err(refused('git', `${repo} is not a git repository, and git.required is true`));
  if (config.integration.verify && !isolate)
    return err(
      rejected([
        loaded.value.doc.issue(
          ['integration', 'verify'],
          `integration checks need git isolation (git.isolation: worktree, in a git repository); ${target.git ? 'git.isolation is none' : `${repo} is not a git repository`}`,
        ),
      ]),
    );
  if (isolate) {
    const version = checkGitVersion();
    if (!version.ok) return err(refused('git', version.error));
  }
  return ok({ config, repo, git: target.git, goal, plan, isolate });
}

/**
 * Names the run; refuses a run directory that is a file, not empty, or being created (or left
 * half-created) by another `swarm run`; keeps `.swarm/` out of git; makes the temporary directory
 * (and the missing parents of the run directory), takes its lock and writes creating.json.
 */
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
  const leftover = findCreation(root);
  if (leftover) return err(refused('run-dir', creationMessage(leftover)));
  // Before anything is created under .swarm/ (the default runs directory, the worktrees).
  if (checked.git) {
    try {
      excludeSwarmDir(checked.repo);
    } catch (e) {
      return err(
        refused('git', `${checked.repo}: cannot add /.swarm/ to the repository's info/exclude: ${fsErrorPhrase(e)}`),
      );
    }
  }
  const paths = new RunPaths(root);
  const building = new RunPaths(creatingDir(root));
  try {
    makeDirs(path.dirname(root));
    fs.mkdirSync(building.root);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST')
      return err(refused('run-dir', `${root}: another \`swarm run\` is creating this run directory`));
    return err(cannotWrite(root, e));
  }
  try {
    crashPoint('startup-dir');
    const lock = await acquireRunLock(building);
    if (!lock.ok) {
      fs.rmSync(building.root, { recursive: true, force: true });
      return err(refused('lock-held', `${root}: ${lock.error.message}`));
    }
    crashPoint('startup-lock');
    const record: CreatingJson = {
      id,
      root,
      repo: checked.repo,
      integration_branch: checked.isolate ? integrationBranch(id) : null,
      created_at: new Date().toISOString(),
    };
    writeJsonAtomicSync(building.creatingJson, record);
    crashPoint('startup-record');
    return ok({ id, paths, building, lock: once(lock.value) });
  } catch (e) {
    fs.rmSync(building.root, { recursive: true, force: true });
    if (isFsError(e)) return err(cannotWrite(root, e));
    throw e;
  }
}

/**
 * What follows the claim, in the temporary directory: the planner (without tasks), the
 * integration branch, plan.json and run.json; then the rename into place. The caller abandons the
 * claim when this fails.
 */
async function makeRun(
  input: CreateRunInput,
  hooks: CreateRunHooks,
  checked: Checked,
  claimed: Claimed,
): Promise<Result<Run, RunFailure>> {
  const { config, repo, goal, plan, isolate } = checked;
  const { id, paths, building } = claimed;
  let resolved: ResolvedPlan;
  let planner: PlanJson['planner'] = null;
  if (plan) {
    resolved = plan;
  } else {
    hooks.onNote({ kind: 'created', id, root: paths.root });
    const planned = await planWithTranscript(config, goal!, repo, building.plannerJson, {
      onProgress: (line) => hooks.onNote({ kind: 'planner', line }),
      interrupts: hooks.interrupts,
      transcriptName: paths.plannerJson,
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
    crashPoint('startup-planned');
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
    if (!prepared.ok) return err(refused('git', prepared.error));
    git = prepared.value.git;
    claimed.branch = { repo, name: git.branch };
    crashPoint('startup-branch');
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
  writeJsonAtomicSync(building.planJson, planJson);
  crashPoint('startup-plan-json');
  writeJsonAtomicSync(building.runJson, runJson);
  crashPoint('startup-run-json');
  fs.rmSync(building.creatingJson);
  try {
    // Onto an absent or empty directory; the lock moves with it.
    fs.renameSync(building.root, paths.root);
  } catch (e) {
    return err(cannotWrite(paths.root, e));
  }
  crashPoint('startup-renamed');
  if (!planner) hooks.onNote({ kind: 'created', id, root: paths.root });
  return ok({
    command: 'run',
    paths,
    runJson,
    planJson,
    state: initialState(),
    lock: once(heldRunLock(paths)),
    retryFailed: false,
    appliedRequests: new Set(),
    budget: undefined,
  });
}

/**
 * Undoes a claim whose run was not made (never throws): releases the lock, deletes the integration
 * branch this call created, and removes the temporary directory; if it holds the planner's
 * transcript, the run directory gets that and nothing else instead (when its path is still free).
 */
function abandon(claimed: Claimed): void {
  const { building, paths, branch } = claimed;
  try {
    claimed.lock.release();
    if (branch) gitTrySync(branch.repo, ['update-ref', '-d', `refs/heads/${branch.name}`]);
    if (fs.existsSync(building.plannerJson) && !fs.existsSync(building.runJson)) {
      for (const f of [building.creatingJson, building.planJson]) fs.rmSync(f, { force: true });
      if (!fs.existsSync(paths.root) || fs.readdirSync(paths.root).length === 0) {
        fs.renameSync(building.root, paths.root);
        return;
      }
    }
    fs.rmSync(building.root, { recursive: true, force: true });
  } catch {
    // What is left is recognised as an interrupted creation (`swarm clean` removes it).
  }
}

/** A lock released at most once, whichever path gets to it first. */
function once(lock: RunLock): RunLock {
  let held = true;
  return {
    release: () => {
      if (held) lock.release();
      held = false;
    },
  };
}

/** An error of a file system call (it has a `syscall`), as opposed to a bug. */
function isFsError(e: unknown): e is NodeJS.ErrnoException {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).syscall === 'string';
}

/** The refusal of a run directory that cannot be created or written. */
function cannotWrite(root: string, e: unknown): RunFailure {
  return refused('run-dir', `${root}: cannot create the run directory there: ${fsErrorPhrase(e)}`);
}
