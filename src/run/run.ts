// A run ready for a coordinator session (what createRun and resumeRun give), and why one could not
// be created or reopened: located input issues, or a refusal with its message and exit code.
import type { InputIssue } from '../config/source.js';
import type { RunLock } from '../coordinator/run-lock.js';
import type { RunPaths } from '../protocol/paths.js';
import type { PlanJson, RunJson } from '../protocol/schemas.js';
import type { RunState } from '../protocol/state.js';
import { EXIT, type ExitCode } from './exit-codes.js';
import type { PlanningStopped } from './planning.js';

/**
 * A run directory whose lock is held, with everything a coordinator session starts from. Whoever
 * gets one owns the lock: it must run a session (which releases it) or call `lock.release()`.
 */
export interface Run {
  /** `run`: a new run (the coordinator appends `run.started`); `resume`: a run continued (`run.resumed`). */
  command: 'run' | 'resume';
  paths: RunPaths;
  /** run.json as written (new run) or read (resumed run). */
  runJson: RunJson;
  /** plan.json as written or read. */
  planJson: PlanJson;
  /** The state after the events already in events.jsonl: empty for a new run, replayed for a resumed one. */
  state: RunState;
  /** The run lock, held. */
  lock: RunLock;
  /** Resume only (false otherwise): put failed, cancelled and skipped tasks back to pending. */
  retryFailed: boolean;
  /** Resume only (empty otherwise): ids of the control requests the log shows applied already. */
  appliedRequests: ReadonlySet<string>;
  /** Resume only (undefined otherwise): new run caps, in USD and tokens (`--max-cost-usd`, `--max-tokens`). */
  budget: { max_cost_usd?: number; max_tokens?: number } | undefined;
}

/**
 * Why a refusal happened, for callers that answer differently (an HTTP server: 409 for
 * `lock-held`, 400 for the rest of the input problems, ...):
 * - `run-dir`: `--run-dir` names a file or a directory that is not empty, a run directory being
 *   created by another `swarm run` or left half-created by a killed one, or a place where the
 *   run directory cannot be created or written (createRun);
 * - `not-a-run`: no or unreadable run.json, a broken events.jsonl, no plan.json (resumeRun);
 * - `lock-held`: a live coordinator holds the run lock;
 * - `missing-key`: an API key variable a role or the planner needs is not set;
 * - `sandbox`: a task runs in a sandbox and bubblewrap is missing or cannot make one, or a
 *   `writable` path does not exist;
 * - `launcher`: `launcher.kind: podman` and podman is missing or cannot start a container;
 * - `git`: not a git repository though `git.required`, git too old, no base commit, the branch exists;
 * - `no-goal`, `no-agent-role`, `output`: nothing to plan, no role to plan for, `-o` names a
 *   directory (draftPlan; createRun reports a missing agent role as an input issue at `roles`);
 * - `planning-failed`: no API client, no valid plan from the planner, or an API error;
 * - `control`: a control request that is malformed, names a task the run does not have, or that
 *   nothing would apply (the run finished);
 * - `interrupted`: the planner was stopped (Ctrl-C); `budget`: the planner spent the run's budget;
 * - `remote`: `--repo` or `--issue` could not be read (unreachable, unknown, a branch not there);
 * - `publish`: publishing is on but the token is missing or may not push and open pull requests.
 */
export type RefusalReason =
  | 'run-dir'
  | 'not-a-run'
  | 'lock-held'
  | 'missing-key'
  | 'backend'
  | 'sandbox'
  | 'launcher'
  | 'git'
  | 'no-goal'
  | 'no-agent-role'
  | 'output'
  | 'planning-failed'
  | 'control'
  | 'interrupted'
  | 'budget'
  | 'remote'
  | 'publish';

/** A run that could not be created or reopened, for a reason that is not a place in an input file. */
export interface RunRefusal {
  kind: 'refused';
  reason: RefusalReason;
  /** What to tell the user, one message each (a message may span lines); the CLI prefixes each with `swarm: `. */
  messages: string[];
  /** The exit code the command ends with: 2 (cannot start), 3 (`budget`) or 130 (`interrupted`). */
  exit: ExitCode;
}

/** Bad input: each issue with its file, line, column and field (exit code 2). */
export interface InputRejected {
  kind: 'input';
  issues: InputIssue[];
}

/** Why createRun or resumeRun gave no run (or draftPlan no plan). Nothing is left behind but what the refusal says. */
export type RunFailure = InputRejected | RunRefusal;

/** Makes an {@link InputRejected}. */
export const rejected = (issues: InputIssue[]): InputRejected => ({ kind: 'input', issues });

/** The exit code of each refusal reason: a spent budget and an interruption have their own. */
const EXIT_OF: Record<RefusalReason, ExitCode> = {
  'run-dir': EXIT.cannotStart,
  'not-a-run': EXIT.cannotStart,
  'lock-held': EXIT.cannotStart,
  'missing-key': EXIT.cannotStart,
  backend: EXIT.cannotStart,
  sandbox: EXIT.cannotStart,
  launcher: EXIT.cannotStart,
  git: EXIT.cannotStart,
  'no-goal': EXIT.cannotStart,
  'no-agent-role': EXIT.cannotStart,
  output: EXIT.cannotStart,
  'planning-failed': EXIT.cannotStart,
  control: EXIT.cannotStart,
  interrupted: EXIT.stopped,
  budget: EXIT.budget,
  remote: EXIT.cannotStart,
  publish: EXIT.cannotStart,
};

/** Makes a {@link RunRefusal} with the exit code of its reason. */
export const refused = (reason: RefusalReason, ...messages: string[]): RunRefusal => ({
  kind: 'refused',
  reason,
  messages,
  exit: EXIT_OF[reason],
});

/** The refusal reason of a planner that gave no plan. */
export const PLANNING_REASON: Record<PlanningStopped['why'], RefusalReason> = {
  'cannot-start': 'planning-failed',
  interrupted: 'interrupted',
  budget: 'budget',
};
