// Building an attempt's assignment.json: what the worker runs, where (workspace, git), with what
// context (earlier attempts, dependencies' summaries, the last merge conflict) and, for agents, with
// what caps; then handing it to the worker.
import fs from 'node:fs';
import path from 'node:path';
import type { RunConfig } from '../protocol/run-config.js';
import { writeJsonAtomicSync } from '../protocol/files.js';
import type { RunPaths } from '../protocol/paths.js';
import { known, readAssignment, readAttemptResult } from '../protocol/attempt-files.js';
import { PROTOCOL_VERSION, type Assignment, type PreviousAttempt, type RunJson } from '../protocol/schemas.js';
import type { RunState } from '../protocol/state.js';
import { gitTrySync } from '../git/git.js';
import { attemptRef, attemptWorktree } from '../git/layout.js';
import { attemptDiff } from '../git/merge.js';
import { agentSpecFor } from '../worker/backends/registry.js';
import type { GrantedCaps } from './budget-ledger.js';
import type { PlanTask } from './task-board.js';
import type { WorkerPool } from './worker-pool.js';
import { isAgentBackend } from '../worker/backends/registry.js';
import { ATTEMPT_MARKER, attemptKey } from '../protocol/attempt-marker.js';
import { sandboxFor } from '../config/sandbox.js';
import { lastLines } from '../util/tail.js';

/** The commit a new attempt starts from. */
export type StartCommit =
  /** No git isolation: the attempt runs in the repository as it is. */
  | { kind: 'no-git' }
  /** The integration branch as it is now: the attempt sees its dependencies' merged work. */
  | { kind: 'tip'; commit: string }
  /** The integration branch is gone: nothing can be started on it. */
  | { kind: 'branch-missing' };

/** Where a new attempt of the run starts: the integration branch's tip now. */
export function startCommit(run: RunJson): StartCommit {
  if (!run.integration_branch) return { kind: 'no-git' };
  const tip = gitTrySync(run.repo, ['rev-parse', '--verify', `refs/heads/${run.integration_branch}`]);
  return tip.exitCode === 0 ? { kind: 'tip', commit: tip.stdout } : { kind: 'branch-missing' };
}

/** What every assignment of a run is built from. */
export interface AssignmentContext {
  run: RunJson;
  config: RunConfig;
  paths: RunPaths;
  /** The run's state (when the attempt is assigned: after its attempt.assigned). */
  state: RunState;
}

/** One attempt to assign. */
export interface AttemptToAssign {
  task: PlanTask;
  attempt: number;
  worker: string;
  /** The integration branch's tip (null without git isolation). */
  base: string | null;
  /** Agent attempts: the caps the budget granted (none: no caps). */
  caps: GrantedCaps | undefined;
  /**
   * `merge.on_conflict: resolve`: the role whose agent resolves the task's last conflict in this
   * attempt (null: the task's own attempt), and the plan's tasks by id (to describe the others).
   */
  resolver?: { role: string; taskOf(id: string): PlanTask | undefined } | null;
}

/** The assignment of an attempt to its worker. Reads earlier attempts' files; writes nothing. */
export function buildAssignment(ctx: AssignmentContext, i: AttemptToAssign): Assignment {
  const { run, config, paths, state } = ctx;
  const { attempt } = i;
  // A resolver's attempt runs the resolver role's agent on the task (its title, description, verify).
  const resolverRole = i.resolver ? config.roles[i.resolver.role]! : undefined;
  const task =
    i.resolver && resolverRole ? { ...i.task, role: i.resolver.role, backend: resolverRole.backend } : i.task;
  // Paths relative to the repository's top level (protocol 3): a worker resolves them against the
  // repository as it sees it, which in a container or a pod is mounted elsewhere.
  const git = run.integration_branch
    ? {
        repo: '.',
        worktree: path.relative(run.repo, attemptWorktree(run.repo, run.id, task.id, attempt)),
        ref: attemptRef(run.id, task.id, attempt),
        message: `swarm ${run.id}: ${task.id} (attempt ${attempt})\n\n${task.title}`,
      }
    : null;
  const root = git?.worktree ?? '.';
  const agent = isAgentBackend(task.backend)
    ? agentSpecFor(
        config.roles[task.role!]!,
        i.caps?.caps ?? { max_cost_usd: null, max_tokens: null },
        i.caps?.source ?? { cost: null, tokens: null },
      )
    : null;
  return {
    protocol: PROTOCOL_VERSION,
    run_id: run.id,
    goal: run.goal,
    agent,
    task,
    attempt,
    worker: i.worker,
    assigned_at: new Date().toISOString(),
    workspace: task.cwd ? path.join(root, task.cwd) : root,
    base_commit: i.base,
    timeout_ms: task.timeout_ms,
    kill_grace_ms: config.scheduling.kill_grace,
    env: {
      ...task.env,
      SWARM_RUN_DIR: paths.root,
      SWARM_TASK_ID: task.id,
      SWARM_ATTEMPT: String(attempt),
      [ATTEMPT_MARKER]: attemptKey(run.id, task.id, attempt),
      // A command task sent back by the merge queue can read why (an agent is told in its prompt).
      ...(state.tasks[task.id]!.integration_failure
        ? { SWARM_INTEGRATION_LOG: paths.integrationLog(state.tasks[task.id]!.integration_failure!.check) }
        : {}),
    },
    previous: previousAttempts(paths, state, task.id, attempt),
    dependencies: task.deps.map((d) => ({ id: d, summary: state.tasks[d]!.last?.summary ?? null })),
    git,
    conflict: i.resolver ? null : conflictContext(paths, run, state, task.id),
    integration: integrationContext(ctx, task.id),
    resolve: i.resolver && i.base ? resolveContext(ctx, task.id, i.base, i.resolver.taskOf) : null,
    sandbox: sandboxFor(config, task, { repo: run.repo }),
  };
}

/**
 * Writes assignment.json and puts the attempt in its worker's inbox. No fsync (it was half of the
 * coordinator's time per dispatch): the rename still makes the file appear whole, and an
 * assignment lost to a power cut is found undelivered on resume.
 */
export function deliverAssignment(paths: RunPaths, pool: WorkerPool, a: Assignment): void {
  writeJsonAtomicSync(paths.attempt(a.task.id, a.attempt).assignment, a, { fsync: false });
  pool.assign(a.worker, { task: a.task.id, attempt: a.attempt });
  pool.send(a.worker, { kind: 'assign', task: a.task.id, attempt: a.attempt });
}

/** Creates an attempt's directory (before its assignment.json, or its failure at dispatch). */
export function makeAttemptDir(paths: RunPaths, task: string, attempt: number): void {
  fs.mkdirSync(paths.attempt(task, attempt).dir, { recursive: true });
}

/** What earlier attempts ended with (exit code, last stderr lines), for the next attempt. */
function previousAttempts(paths: RunPaths, state: RunState, id: string, next: number): PreviousAttempt[] {
  const out: PreviousAttempt[] = [];
  for (let n = Math.max(1, next - 3); n < next; n++) {
    const r = known(readAttemptResult(paths, id, n));
    if (r)
      out.push({
        attempt: n,
        outcome: r.outcome,
        reason: r.reason,
        exit_code: r.exit_code,
        stderr_tail: r.stderr_tail,
        summary: r.summary,
        verify_tail: r.verify?.output_tail ?? [],
      });
    // No readable result: the attempt.finished event says how it ended (lost, taken back, failed at dispatch).
    else
      out.push({
        attempt: n,
        outcome: 'no-result',
        reason: null,
        exit_code: null,
        stderr_tail: [],
        summary: state.tasks[id]!.last?.attempt === n ? state.tasks[id]!.last!.summary : null,
        verify_tail: [],
      });
  }
  return out;
}

/** The output lines of an integration check an agent is shown. */
const CHECK_TAIL_LINES = 60;

/** For a task whose last merge broke the integration check: the check, its output, and the diff. */
function integrationContext(ctx: AssignmentContext, id: string): Assignment['integration'] {
  const { run, paths, state, config } = ctx;
  const f = state.tasks[id]!.integration_failure;
  if (!f) return null;
  const commit = known(readAttemptResult(paths, id, f.attempt))?.commit;
  const base = known(readAssignment(paths, id, f.attempt))?.base_commit;
  return {
    attempt: f.attempt,
    check: f.check,
    tip: f.tip,
    command: config.integration.verify ?? '',
    output_tail: lastLines(paths.integrationLog(f.check), CHECK_TAIL_LINES),
    diff: commit && base ? attemptDiff(run.repo, base, commit) : '',
  };
}

/**
 * For a resolver's attempt: the conflicting attempt's commit and files, both sides' diffs of them
 * since that attempt's base, and the tasks whose merged work it meets (from the subjects of the
 * attempt commits on the branch that touch the files: `swarm <run-id>: <task> (attempt n)`).
 */
function resolveContext(
  ctx: AssignmentContext,
  id: string,
  tip: string,
  taskOf: (id: string) => PlanTask | undefined,
): Assignment['resolve'] {
  const { run, paths, state } = ctx;
  const c = state.tasks[id]!.last_conflict;
  const commit = c ? known(readAttemptResult(paths, id, c.attempt))?.commit : undefined;
  const base = c ? known(readAssignment(paths, id, c.attempt))?.base_commit : undefined;
  if (!c || !commit || !base) return null;
  const files = c.files;
  const subjects = gitTrySync(run.repo, [
    'log',
    '--no-merges',
    '--format=%s',
    `${base}..${tip}`,
    '--',
    ...files,
  ]).stdout;
  const prefix = `swarm ${run.id}: `;
  const ids = new Set<string>();
  for (const line of subjects.split('\n')) {
    const m = line.startsWith(prefix) ? /^(\S+) \(attempt \d+\)$/.exec(line.slice(prefix.length)) : null;
    if (m && m[1] !== id) ids.add(m[1]!);
  }
  const others = [...ids].flatMap((o) => {
    const t = taskOf(o);
    return t ? [{ id: o, title: t.title, description: t.description || t.run || '' }] : [];
  });
  const branchDiff = gitTrySync(run.repo, ['diff', base, tip, '--', ...files]).stdout;
  return {
    attempt: c.attempt,
    commit,
    files,
    branch_diff: branchDiff.length > 65_536 ? `${branchDiff.slice(0, 65_536)}\n[diff truncated]\n` : branchDiff,
    task_diff: attemptDiff(run.repo, base, commit),
    others,
  };
}

/** For a task whose last merge conflicted: the files, and the diff of the attempt that conflicted. */
function conflictContext(paths: RunPaths, run: RunJson, state: RunState, id: string): Assignment['conflict'] {
  const c = state.tasks[id]!.last_conflict;
  if (!c) return null;
  const commit = known(readAttemptResult(paths, id, c.attempt))?.commit;
  const base = known(readAssignment(paths, id, c.attempt))?.base_commit;
  const diff = commit && base ? attemptDiff(run.repo, base, commit) : '';
  return { attempt: c.attempt, files: c.files, diff };
}
