// The merge queue (`integration.verify`): runs integration checks on the integration branch,
// verifies merged tasks, bisects a failed batch to the merge that broke it, rewinds the branch
// without it and sends its task back. The decisions are integration-queue.ts's (pure, from the
// state); this file carries them out: events, checks, git, and the tasks' next steps.
import fs from 'node:fs';
import type { Logger } from 'pino';
import { MAX_CONFLICT_RETRIES } from '../config/defaults.js';
import { integrationWorktree } from '../git/layout.js';
import { removeWorktree } from '../git/worktree.js';
import { moveBranch, remakeMerges, type BranchMove } from '../git/rewind.js';
import type { RunPaths } from '../protocol/paths.js';
import type { IntegrationCheckKind, QueuedMerge, RunJson, SandboxSpec } from '../protocol/schemas.js';
import { showsFlaky, type RunState } from '../protocol/state.js';
import { unreachable } from '../util/unreachable.js';
import { crashPoint } from './crash-point.js';
import type { EventLog } from './event-log.js';
import { killLeftoverCheck, startCheck, type RunningCheck } from './integration-check.js';
import { heldBack, nextQueueStep, settle } from './integration-queue.js';
import type { TaskBoard } from './task-board.js';

/** What the merge queue needs. */
export interface MergeQueueContext {
  run: RunJson;
  paths: RunPaths;
  log: EventLog;
  logger: Logger;
  board: TaskBoard;
  /** The integration check command (`integration.verify`). */
  command: string;
  /** One check's time limit, and SIGTERM to SIGKILL when stopping one (ms). */
  timeoutMs: number;
  killGraceMs: number;
  /** The sandbox of the run's command tasks, which checks run in. */
  sandbox: SandboxSpec;
  onConflict: 'retry' | 'fail' | 'resolve';
  /** A check ended: the coordinator's loop should run. */
  wake(): void;
}

/** What a pass of the queue came to. */
export type QueueProgress = { kind: 'ok' } | { kind: 'broken'; why: string };

export class MergeQueue {
  readonly #c: MergeQueueContext;
  #running: RunningCheck | undefined;

  constructor(context: MergeQueueContext) {
    this.#c = context;
  }

  get #state(): RunState {
    return this.#c.log.state;
  }

  /**
   * The commit new attempts start from: the last verified tip (the base until the base's check
   * passes), so that no attempt builds on a merge a check may still take off the branch.
   */
  startCommit(): string {
    const q = this.#state.integration;
    return q?.verified?.tip ?? this.#state.git!.base;
  }

  /** Whether a ready task the queue sent back must wait before its next attempt ({@link heldBack}). */
  holds(id: string): boolean {
    return heldBack(this.#state.tasks[id]!, this.#state.integration);
  }

  /**
   * After a task's succeeded attempt was merged: true (and the task is now `verifying`) when the
   * merge made a change the queue must check; false when nothing was merged (the task succeeds).
   */
  waitsForCheck(id: string): boolean {
    const t = this.#state.tasks[id]!;
    const queued = this.#state.integration?.queue.some((m) => m.task === id && m.attempt === t.last?.attempt);
    if (!queued) return false;
    this.#c.log.append({ type: 'task.merged', task: id });
    return true;
  }

  /** True while the run cannot end: a check runs or merges wait for one. */
  get busy(): boolean {
    const q = this.#state.integration;
    return this.#running !== undefined || !q?.verified || q.queue.length > 0 || q.check !== null;
  }

  /**
   * Moves the queue as far as it goes now: records a check that ended, settles the tasks a check
   * decided, verifies, bisects, rewinds, and starts the next check. Called on every tick.
   */
  advance(): QueueProgress {
    this.#settleAll();
    for (;;) {
      if (this.#running) {
        const end = this.#running.end;
        if (!end) return { kind: 'ok' };
        this.#running = undefined;
        switch (end.kind) {
          case 'stopped':
            return { kind: 'ok' };
          case 'error':
            return { kind: 'broken', why: end.message };
          case 'ran': {
            const c = this.#state.integration!.check!;
            const bisect = this.#state.integration!.bisect;
            this.#c.log.append({
              type: 'integration.check.finished',
              check: c.check,
              tip: c.tip,
              outcome: end.outcome,
              exit_code: end.exitCode,
              duration_ms: end.durationMs,
              summary: end.summary,
            });
            if (end.outcome === 'passed' && bisect && showsFlaky(bisect, c))
              this.#flaky(bisect.batch_check, c.check, c.tip);
            crashPoint('after-check');
            continue;
          }
          default:
            return unreachable(end, 'check end');
        }
      }
      const q = this.#state.integration;
      if (q?.check) {
        // Started by a session that died: whatever is left of it is killed, and it runs again.
        const killed = killLeftoverCheck(this.#c.run.id, q.check.check, this.#c.paths.integrationGroup(q.check.check));
        this.#c.logger.warn(
          { check: q.check.check, killed: killed.marked, group: killed.group },
          'running an interrupted integration check again',
        );
        this.#start(q.check.check, q.check.tip, true, q.check.kind);
        return { kind: 'ok' };
      }
      const step = nextQueueStep(q, this.#state.git!.base, this.#state.tasks);
      switch (step.kind) {
        case 'idle':
          return { kind: 'ok' };
        case 'base-failed':
          return {
            kind: 'broken',
            why: `the integration check fails on the commit the run started from, so no merge can be verified (${step.summary}; see ${this.#c.paths.integrationLog(q!.last!.check)})`,
          };
        case 'verified-failed':
          return {
            kind: 'broken',
            why: `the integration check fails on the verified tip ${step.tip.slice(0, 12)}, which it passed before; no task is blamed (${step.summary}; see ${this.#c.paths.integrationLog(step.check)}). Once what the check needs is fixed, swarm resume ${this.#c.paths.root} checks the merges again`,
          };
        case 'check': {
          const n = (q?.checks ?? 0) + 1;
          this.#c.log.append({
            type: 'integration.check.started',
            check: n,
            tip: step.tip,
            kind: step.check,
            merges: step.merges,
            command: this.#c.command,
          });
          this.#start(n, step.tip, false, step.check);
          return { kind: 'ok' };
        }
        case 'verify':
          this.#verified(step.tip, step.check, step.merges);
          break;
        case 'culprit': {
          const last = step.verified.at(-1);
          if (last) this.#verified(last.tip, step.verifiedBy!, step.verified);
          const { task, attempt } = step.culprit;
          this.#c.log.append({ type: 'integration.culprit', task, attempt, check: step.check, tip: step.culprit.tip });
          this.#c.logger.warn({ task, attempt, check: step.check }, 'integration check broken by this merge');
          crashPoint('after-culprit');
          break;
        }
        case 'rewind': {
          const failed = this.#rewind(step.culprit);
          if (failed) return { kind: 'broken', why: failed };
          break;
        }
        default:
          return unreachable(step, 'queue step');
      }
      this.#settleAll();
    }
  }

  /**
   * Stops a running check (the session ends; the next one runs it again). Once the run has
   * finished, the integration worktree is removed too (nothing will check again).
   */
  async stop(): Promise<void> {
    const running = this.#running;
    this.#running = undefined;
    await running?.stop();
    if (this.#state.phase !== 'finished') return;
    const { run, logger } = this.#c;
    const worktree = integrationWorktree(run.repo, run.id);
    if (!fs.existsSync(worktree)) return;
    try {
      await removeWorktree(run.repo, worktree);
    } catch (e) {
      logger.warn({ err: e, worktree }, 'could not remove the integration worktree');
    }
  }

  #start(check: number, tip: string, again: boolean, kind: IntegrationCheckKind): void {
    const { run, paths } = this.#c;
    fs.mkdirSync(paths.integrationDir, { recursive: true });
    if (again) fs.appendFileSync(paths.integrationLog(check), '\n--- run again after the coordinator restarted ---\n');
    this.#running = startCheck(
      {
        repo: run.repo,
        runId: run.id,
        runDir: paths.root,
        worktree: integrationWorktree(run.repo, run.id),
        check,
        tip,
        command: this.#c.command,
        logFile: paths.integrationLog(check),
        groupFile: paths.integrationGroup(check),
        timeoutMs: this.#c.timeoutMs,
        killGraceMs: this.#c.killGraceMs,
        sandbox: this.#c.sandbox,
        onSpawn: again ? undefined : () => crashPoint(`during-${kind}-check`),
      },
      () => this.#c.wake(),
    );
  }

  /**
   * The batch check `batchCheck` failed, and check `check` passed on the same tip: the check is
   * flaky. Nobody is blamed (the pass verifies the merges); the user and the log are told.
   */
  #flaky(batchCheck: number, check: number, tip: string): void {
    this.#c.logger.warn(
      { batch_check: batchCheck, check, tip },
      'integration check flaky: failed, then passed on the same tip',
    );
    this.#c.log.append({
      type: 'notice',
      text: `integration check ${batchCheck} failed, but check ${check} passed on the same tip ${tip.slice(0, 12)}: the check is flaky; its merges are verified and no task is blamed`,
    });
  }

  #verified(tip: string, check: number, merges: QueuedMerge[]): void {
    this.#c.log.append({ type: 'integration.verified', tip, check, tasks: merges.map((m) => m.task) });
    crashPoint('after-verified');
  }

  /**
   * Takes `culprit` off the branch: back to the verified tip, every other queued merge made again
   * on it (as objects, dated as the merges they remake), then the branch moved in one
   * compare-and-swap from the tip the run's log knows (`state.git.tip`), then the event. A crash
   * before the event leaves the culprit in the queue, and the next session does it all again: the
   * same commits, and the branch found moved to them already. A branch someone else moved (a
   * commit not in the log) is left alone, and the session ends as broken, saying how to decide.
   * @returns why it could not (a git error, the branch moved by someone else), for the session to
   *   end as broken; undefined when done
   */
  #rewind(culprit: QueuedMerge): string | undefined {
    const { run, log } = this.#c;
    const branch = run.integration_branch!;
    const q = this.#state.integration!;
    const base = q.verified!.tip;
    const expected = this.#state.git!.tip;
    const others = q.queue
      .filter((m) => !(m.task === culprit.task && m.attempt === culprit.attempt))
      .map((m) => ({
        task: m.task,
        attempt: m.attempt,
        commit: m.commit,
        message: `swarm ${run.id}: merge ${m.task} (attempt ${m.attempt})`,
        remakes: m.tip,
      }));
    let rewound: ReturnType<typeof remakeMerges>;
    let moved: BranchMove;
    try {
      rewound = remakeMerges(run.repo, base, others);
      moved = moveBranch(run.repo, branch, rewound.tip, expected);
    } catch (e) {
      // The repository broken: say so and end the session, resumably.
      return `taking ${culprit.task} off ${branch} failed: ${(e as Error).message}`;
    }
    if (moved.kind === 'elsewhere') return this.#movedElsewhere(culprit, expected, moved.actual);
    crashPoint('after-rewind-ref');
    log.append({
      type: 'integration.rewound',
      from: expected,
      base,
      to: rewound.tip,
      culprit: culprit.task,
      kept: rewound.kept,
      conflicted: rewound.conflicted,
    });
    this.#c.logger.warn({ culprit: culprit.task, base, to: rewound.tip }, 'integration branch rewound');
    return undefined;
  }

  /** Why a rewind left the branch alone: it is not where the run's log says, and what the user can do. */
  #movedElsewhere(culprit: QueuedMerge, expected: string, actual: string | null): string {
    const ref = `refs/heads/${this.#c.run.integration_branch!}`;
    const resume = `swarm resume ${this.#c.paths.root}`;
    const git = `git -C ${this.#c.run.repo}`;
    this.#c.logger.error({ culprit: culprit.task, expected, actual }, 'integration branch moved by someone else');
    if (actual === null)
      return `the integration branch ${ref} is gone, so ${culprit.task} cannot be taken off it; to let the run go on, make it again where the run left it: ${git} update-ref ${ref} ${expected}; then ${resume}`;
    return (
      `the integration branch ${ref} is at ${actual}, a commit this run did not make (it left the branch at ${expected}); ` +
      `taking ${culprit.task} off the branch would drop it, so the branch is left as it is. ` +
      `Keep that commit elsewhere if you want it (${git} branch <name> ${actual}), then put the branch back and let the run go on: ` +
      `${git} update-ref ${ref} ${expected} ${actual}; then ${resume}`
    );
  }

  /** Tasks in `verifying` that a check decided: succeeded, or sent back (a retry), or failed. */
  #settleAll(): void {
    const q = this.#state.integration;
    if (!q) return;
    for (const [id, t] of Object.entries(this.#state.tasks)) {
      if (t.state !== 'verifying') continue;
      const verdict = settle(id, t, q);
      switch (verdict) {
        case 'wait':
          break;
        case 'succeed':
          this.#c.board.finish({ type: 'task.succeeded', task: id });
          break;
        case 'culprit':
          if (t.cancel_requested) this.#c.board.finish({ type: 'task.cancelled', task: id });
          else if (t.failures <= this.#c.board.task(id).retries) this.#c.board.retry(id, 0);
          else this.#c.board.finish({ type: 'task.failed', task: id, reason: 'integration-failed' });
          break;
        case 'conflicted':
          if (this.#c.onConflict !== 'fail' && t.conflicts <= MAX_CONFLICT_RETRIES) this.#c.board.retry(id, 0);
          else this.#c.board.finish({ type: 'task.failed', task: id, reason: 'merge-conflict' });
          break;
        default:
          unreachable(verdict, 'settlement');
      }
    }
  }
}
