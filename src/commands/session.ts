// `swarm run` and `swarm resume`: create or open a run directory, take the lock, run a
// coordinator session with the terminal presenter, and map how it ended to an exit code.
import fs from 'node:fs';
import path from 'node:path';
import { ulid } from 'ulid';
import { loadConfig } from '../config/load.js';
import { loadPlan } from '../plan/load-plan.js';
import type { Config } from '../config/schema.js';
import { formatIssue, type InputIssue } from '../config/source.js';
import { raisedCapOptions } from '../presenter/resume-hint.js';
import { Coordinator } from '../coordinator/coordinator.js';
import { EventLog } from '../coordinator/event-log.js';
import { LocalLauncher } from '../coordinator/launcher.js';
import { acquireRunLock, type RunLock } from '../coordinator/run-lock.js';
import { readJsonFile, writeJsonAtomicSync } from '../protocol/files.js';
import { truncateTornTail } from '../protocol/jsonl.js';
import { RunPaths } from '../protocol/paths.js';
import { loadRun, NotARunError } from '../protocol/run-reader.js';
import { PROTOCOL_VERSION, RunJsonSchema, type PlanJson, type RunJson } from '../protocol/schemas.js';
import { initialState, type RunState } from '../protocol/state.js';
import { checkGitVersion, diffStat, prepareGitRun, repoTopLevel, type GitRun } from '../git/repo.js';
import { AttachedDashboard } from '../dashboard/attach.js';
import { ConsolePresenter, type Output } from '../presenter/console.js';
import { fileLogger } from '../util/logger.js';
import type { ResolvedPlan } from '../plan/plan.js';
import { totalTokens } from '../protocol/usage.js';
import { missingKeys, planWithTranscript } from './planning.js';
import { agentRoles } from '../plan/planner.js';
import { sleep } from '../util/process.js';

/** Exit codes of `swarm run` and `swarm resume` (the README lists them). */
export const EXIT = {
  /** Every task succeeded. */
  succeeded: 0,
  /** Some task failed, was skipped or was cancelled. */
  failed: 1,
  /** The run could not start: bad config, bad plan, lock held, not a run directory. */
  cannotStart: 2,
  /**
   * The run budget is spent: `swarm resume --max-cost-usd N` (or --max-tokens) continues it; when
   * the planner spent it, nothing ran and there is nothing to resume (raise `budget` in the config).
   */
  budget: 3,
  /** Stopped before finishing (Ctrl-C, stop-run, SIGTERM): `swarm resume` continues it. */
  stopped: 130,
} as const;

/** How a session shows itself: the dashboard (a terminal, unless --no-dashboard) or one line per event. */
export interface UiOptions {
  /** Open the dashboard (src/dashboard/attach.ts); the caller checks that stdin and stdout are a terminal. */
  dashboard?: boolean;
}

/** Options of `swarm run`. */
export interface RunOptions extends UiOptions {
  plan?: string;
  runDir?: string;
  workers?: number;
  mode?: 'eager' | 'waves';
  goal?: string;
}

/** Options of `swarm resume`. */
export interface ResumeOptions extends UiOptions {
  retryFailed?: boolean;
  /** New run caps (raise a spent budget). */
  maxCostUsd?: number;
  maxTokens?: number;
}

/** Prints input issues to stderr; returns the exit code for "could not start". */
function refuse(err: Output, issues: InputIssue[] | string): number {
  const lines = typeof issues === 'string' ? [issues] : issues.map(formatIssue);
  for (const l of lines) err.write(`swarm: ${l}\n`);
  return EXIT.cannotStart;
}

/**
 * The target directory: `run.repo` (relative to the config file), else the current directory;
 * either way the top level of the git repository that contains it, if there is one.
 */
function resolveRepo(configFile: string, config: Config): { dir: string; git: boolean } {
  const dir = config.run.repo !== undefined ? path.resolve(path.dirname(configFile), config.run.repo) : process.cwd();
  const top = repoTopLevel(dir);
  return top ? { dir: top, git: true } : { dir, git: false };
}

/** `swarm run <config>`: validates everything, then creates the run directory and runs it. */
export async function runCommand(configFile: string, options: RunOptions, out: Output, err: Output): Promise<number> {
  const loaded = loadConfig(configFile);
  if (!loaded.ok) return refuse(err, loaded.error);
  const config = loaded.value.config;
  if (options.workers !== undefined) config.workers = options.workers;
  if (options.mode !== undefined) config.scheduling.mode = options.mode;
  const target = resolveRepo(configFile, config);
  const repo = target.dir;
  let goal = options.goal ?? config.goal ?? null;
  // Plan with the LLM planner when there is a goal and no tasks (DESIGN §4); else validate the tasks.
  const planning = options.plan === undefined && config.tasks === undefined && goal !== null;
  const loadedPlan = planning ? undefined : loadPlan(loaded.value, options.plan, repo);
  if (loadedPlan && !loadedPlan.ok) return refuse(err, loadedPlan.error);
  let plan: ResolvedPlan | undefined;
  if (loadedPlan) {
    const { goal: fileGoal, ...rest } = loadedPlan.value;
    goal ??= fileGoal ?? null; // a plan file's goal (as `swarm plan` writes it) when none is given
    plan = rest;
  }
  if (planning && !agentRoles(config)) {
    return refuse(err, [
      loaded.value.doc.issue(
        ['roles'],
        'planning a goal needs an agent role (e.g. `coder: {backend: anthropic}`), or give tasks',
      ),
    ]);
  }
  const keys = missingKeys(config, planning, plan?.tasks ?? []);
  if (keys.length > 0) return refuse(err, keys.join('\nswarm: '));
  const isolate = config.git.isolation === 'worktree' && target.git;
  if (config.git.required && !target.git)
    return refuse(err, `${repo} is not a git repository, and git.required is true`);
  if (isolate) {
    const version = checkGitVersion();
    if (!version.ok) return refuse(err, version.error);
  }

  const id = ulid();
  const root = options.runDir ? path.resolve(options.runDir) : path.resolve(repo, config.run.dir, id);
  if (fs.existsSync(root) && !fs.statSync(root).isDirectory()) {
    return refuse(err, `${root}: --run-dir names a file, not a directory`);
  }
  if (fs.existsSync(root) && fs.readdirSync(root).length > 0) {
    return refuse(
      err,
      `${root}: the run directory already exists and is not empty (use \`swarm resume ${root}\` to continue a run)`,
    );
  }
  const paths = new RunPaths(root);
  const created = !fs.existsSync(root);
  fs.mkdirSync(paths.root, { recursive: true });
  const lock = await acquireRunLock(paths);
  if (!lock.ok) return refuse(err, `${root}: ${lock.error.message}`);

  let resolved: ResolvedPlan;
  let planner: PlanJson['planner'] = null;
  if (plan) {
    resolved = plan;
  } else {
    out.write(`run ${id}\nrun directory: ${paths.root}\n`);
    const planned = await planWithTranscript(loaded.value.config, goal!, repo, paths.plannerJson, out);
    if (!planned.ok) {
      lock.value.release();
      // The run directory keeps planner.json (the transcript) and nothing else.
      switch (planned.error.why) {
        case 'cannot-start':
          return refuse(err, planned.error.message);
        case 'interrupted':
          err.write(`swarm: ${planned.error.message}; nothing was run\n`);
          return EXIT.stopped;
        case 'budget':
          err.write(
            `swarm: ${planned.error.message}\nswarm: nothing was run: raise the budget in ${configFile} and run again\n`,
          );
          return EXIT.budget;
      }
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
      lock.value.release();
      // Nothing but the lock (and the planner's transcript) was written.
      if (created && !planner) fs.rmSync(paths.root, { recursive: true, force: true });
      return refuse(err, prepared.error);
    }
    git = prepared.value.git;
    for (const w of prepared.value.warnings) err.write(`swarm: warning: ${w}\n`);
  } else if (config.git.isolation === 'worktree') {
    err.write(
      `swarm: warning: ${repo} is not a git repository: tasks run in place, without worktrees (set git.isolation: none to silence this)\n`,
    );
  }

  const { tasks: _tasks, ...configSnapshot } = config;
  const planJson: PlanJson = { protocol: PROTOCOL_VERSION, ...resolved, planner };
  const runJson: RunJson = {
    protocol: PROTOCOL_VERSION,
    id,
    goal,
    created_at: new Date().toISOString(),
    config_file: path.resolve(configFile),
    config: configSnapshot,
    repo,
    base_commit: git?.base ?? null,
    integration_branch: git?.branch ?? null,
  };
  // plan.json before run.json: a directory with run.json always has its plan.
  writeJsonAtomicSync(paths.planJson, planJson);
  writeJsonAtomicSync(paths.runJson, runJson);
  if (!planner) out.write(`run ${id}\nrun directory: ${paths.root}\n`);
  else
    out.write(
      `plan: ${resolved.tasks.length} tasks in ${resolved.waves} wave(s), ${planner.requests} planner request(s), $${planner.usage.cost_usd.toFixed(4)}\n`,
    );
  return session(paths, runJson, planJson, 'run', {}, lock.value, options, out, err);
}

/** `swarm resume <run-dir>`: continues a run from its directory alone. */
export async function resumeCommand(runDir: string, options: ResumeOptions, out: Output, err: Output): Promise<number> {
  const paths = new RunPaths(runDir);
  let runJson: RunJson | undefined;
  try {
    runJson = readJsonFile(paths.runJson, RunJsonSchema);
  } catch (e) {
    return refuse(err, (e as Error).message);
  }
  if (!runJson) return refuse(err, NotARunError.noRunJson(paths).message);
  const lock = await acquireRunLock(paths, runJson.config.liveness.stale_after);
  if (!lock.ok) return refuse(err, `${paths.root}: ${lock.error.message}`);
  let snapshot;
  try {
    truncateTornTail(paths.eventsJsonl);
    snapshot = loadRun(paths.root);
  } catch (e) {
    lock.value.release();
    return refuse(err, (e as Error).message);
  }
  if (!snapshot.plan) {
    lock.value.release();
    return refuse(err, `${paths.planJson}: missing; the run never started`);
  }
  const { state } = snapshot;
  const keys = missingKeys(snapshot.run.config, false, snapshot.plan.tasks);
  if (keys.length > 0) {
    lock.value.release();
    return refuse(err, keys.join('\nswarm: '));
  }
  if (state.phase === 'finished' && !options.retryFailed) {
    lock.value.release();
    out.write(
      `run ${snapshot.run.id} already finished: ${state.outcome}${state.outcome === 'failed' ? ` (use \`swarm resume --retry-failed ${paths.root}\` to run failed tasks again)` : ''}\n`,
    );
    return state.outcome === 'succeeded' ? EXIT.succeeded : EXIT.failed;
  }
  out.write(`resuming run ${snapshot.run.id}\nrun directory: ${paths.root}\n`);
  const budget = { max_cost_usd: options.maxCostUsd, max_tokens: options.maxTokens };
  return session(
    paths,
    snapshot.run,
    snapshot.plan,
    'resume',
    { state, retryFailed: options.retryFailed ?? false, appliedRequests: snapshot.appliedRequests, budget },
    lock.value,
    options,
    out,
    err,
  );
}

/** Where the merged work is and how to take it (git isolation), for the end of a run and status. */
export function integrationSummary(repo: string, git: RunState['git']): string {
  if (!git) return '';
  const { branch, base, tip } = git;
  if (tip === base) return `integration branch ${branch}: no changes from ${base.slice(0, 12)}\n`;
  return (
    `integration branch ${branch} (${base.slice(0, 12)} → ${tip.slice(0, 12)}):\n` +
    diffStat(repo, base, tip) +
    `\ntake it with:  git merge ${branch}    or look first:  git switch ${branch}\n`
  );
}

/**
 * Runs a coordinator session to its end, shown by the console presenter or by an attached
 * dashboard (`ui.dashboard`). With the dashboard, the presenter is silent while it is open; the
 * end of the run (summary, exit code) waits until the user has quit it.
 */
async function session(
  paths: RunPaths,
  run: RunJson,
  plan: PlanJson,
  command: 'run' | 'resume',
  resume: {
    state?: RunState;
    retryFailed?: boolean;
    appliedRequests?: ReadonlySet<string>;
    budget?: { max_cost_usd?: number; max_tokens?: number };
  },
  lock: RunLock,
  ui: UiOptions,
  out: Output,
  err: Output,
): Promise<number> {
  const logger = fileLogger(paths.coordinatorLog, { role: 'coordinator' });
  const log = new EventLog(paths, resume.state ?? initialState());
  const presenter = new ConsolePresenter(out, Date.now(), command === 'resume');
  // The run's last line, when it comes while the dashboard is open: printed once it is closed.
  const held: string[] = [];
  const holding = new ConsolePresenter(
    { write: (t) => void held.push(t), color: out.color },
    Date.now(),
    command === 'resume',
  );
  let dashboard: AttachedDashboard | undefined;
  log.listen((e, state) => {
    if (!dashboard?.open) presenter.onEvent(e, state);
    else if (e.type === 'run.finished') holding.onEvent(e, state);
  });
  const notices = { notice: (text: string): void => void (dashboard?.notice(text) || presenter.notice(text)) };
  const coordinator = new Coordinator({
    paths,
    run,
    plan,
    log,
    logger,
    launcher: new LocalLauncher(),
    notices,
    command,
    retryFailed: resume.retryFailed ?? false,
    appliedRequests: resume.appliedRequests ?? new Set(),
    budget: resume.budget,
  });
  let interrupts = 0;
  const onInterrupt = (): void => {
    interrupts++;
    if (interrupts >= 3) {
      logger.warn('third interrupt: exiting at once');
      if (dashboard?.open) {
        // Give the terminal back first (the dashboard restores it as it quits), then exit.
        dashboard.stop();
        void Promise.race([dashboard.closed, sleep(1000)]).then(() => process.exit(EXIT.stopped));
        return;
      }
      process.exit(EXIT.stopped);
    }
    coordinator.interrupt();
  };
  const onTerm = (): void => {
    // SIGTERM asks for a prompt exit: cancel running attempts, as a double Ctrl-C does.
    coordinator.interrupt();
    coordinator.interrupt();
  };
  process.on('SIGINT', onInterrupt);
  process.on('SIGTERM', onTerm);
  logger.info({ command, run: run.id, session: coordinator.session }, 'coordinator starting');
  let coordinatorDone = false;
  let released = false;
  const release = (): void => {
    if (!released) lock.release();
    released = true;
  };
  if (ui.dashboard) {
    dashboard = new AttachedDashboard(paths.root, onInterrupt);
    void dashboard.closed.then((how) => {
      if (coordinatorDone) return;
      const why = how.error
        ? `the dashboard could not start (${how.error})`
        : how.code === 0
          ? 'dashboard closed'
          : `the dashboard exited (${how.signal ?? `code ${how.code}`})`;
      presenter.notice(
        `${why}; the run goes on here, one line per event (Ctrl-C stops dispatching). Watch it again with: swarm dashboard ${paths.root}`,
      );
    });
  }
  try {
    const exit = await coordinator.run();
    coordinatorDone = true;
    logger.info({ exit }, 'coordinator exiting');
    release(); // the run is free for another session while the dashboard shows how it ended
    if (dashboard?.open) await dashboard.closed;
    for (const line of held) out.write(line);
    if (exit.kind === 'finished') {
      out.write(integrationSummary(run.repo, log.state.git));
      out.write(`run directory: ${paths.root}\n`);
      return exit.outcome === 'succeeded' ? EXIT.succeeded : EXIT.failed;
    }
    if (exit.kind === 'broken') {
      err.write(`swarm: ${exit.why}; stopping\n`);
      return EXIT.failed;
    }
    if (exit.why === 'budget') {
      const b = log.state.budget;
      const spent = log.state.usage;
      const caps = [
        b.max_cost_usd !== null ? `$${spent.cost_usd.toFixed(4)} of $${b.max_cost_usd}` : null,
        b.max_tokens !== null ? `${totalTokens(spent)} of ${b.max_tokens} tokens` : null,
      ]
        .filter(Boolean)
        .join(', ');
      out.write(
        `budget exhausted (${caps} spent); raise the cap and continue with: swarm resume ${raisedCapOptions(b)} ${paths.root}\n`,
      );
      return EXIT.budget;
    }
    out.write(`stopped (${exit.why}); continue with: swarm resume ${paths.root}\n`);
    return EXIT.stopped;
  } finally {
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onTerm);
    release();
  }
}
