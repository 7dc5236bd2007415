// Runs one attempt in a worker: prompt.md, status.json heartbeats, the workspace, the backend,
// verify, the commit, then result.json.
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { readJsonFile, writeJsonAtomicSync } from '../protocol/files.js';
import type { AttemptPaths } from '../protocol/paths.js';
import {
  AssignmentSchema,
  PROTOCOL_VERSION,
  type Assignment,
  type AttemptStatus,
  type AttemptResult,
} from '../protocol/schemas.js';
import { HOST } from '../util/process.js';
import { lastLines } from '../util/tail.js';
import { unreachable } from '../util/unreachable.js';
import type { AttemptEvent, BackendOutcome, StopReason } from './backends/backend.js';
import { hiddenEnv, isAgentBackend, loadBackend } from './backends/registry.js';
import { Sandbox } from './sandbox/sandbox.js';
import { runShell } from './shell.js';
import { localize, type WorkerView } from './localize.js';
import { workspaceFor, type WorkspaceCommit } from './workspace/workspace.js';
import { timerDelay } from '../util/timer.js';

/** Lines of stderr kept in result.json and passed to the next attempt. */
const STDERR_TAIL_LINES = 20;

/**
 * status.json is written without fsync, except when it carries an agent's usage (progress): what it
 * says (state, process group, heartbeat) is lost only with the machine (a power cut), which takes
 * the attempt's processes with it, and a kill -9 of the worker loses nothing the kernel holds.
 * result.json, the commit point, is always fsynced. This keeps a command task to one fsync of its
 * own (bench/README.md: fsyncs per task).
 */
const NO_SYNC = { fsync: false };
/** An attempt being run by this worker. */
export class RunningAttempt {
  readonly #controller = new AbortController();
  readonly #paths: AttemptPaths;
  /** Where this worker has the repository and the run directory (assignment paths are resolved against it). */
  readonly #view: WorkerView;
  readonly #workerId: string;
  readonly #log: Logger;
  #status: AttemptStatus | undefined;
  /** An agent attempt: its activity comes from its backend, not from its output files. */
  #agent = false;
  #timeout: NodeJS.Timeout | undefined;
  /** Settles when result.json is written. */
  readonly done: Promise<AttemptResult | undefined>;

  /**
   * Starts running attempt `attempt` of `task` from its assignment.json. With `stopBefore`, the
   * attempt is not run: its result says it was stopped for that reason (a cancel that arrived
   * before the worker claimed the assignment).
   */
  constructor(
    paths: AttemptPaths,
    view: WorkerView,
    task: string,
    attempt: number,
    workerId: string,
    log: Logger,
    stopBefore?: StopReason,
  ) {
    this.#paths = paths;
    this.#view = view;
    this.#workerId = workerId;
    this.#log = log;
    if (stopBefore) this.#controller.abort(stopBefore);
    this.done = this.#run().catch((e: unknown) => {
      // Whatever broke, the attempt gets a result: a coordinator must never wait on it forever.
      this.#log.error({ err: e, task, attempt }, 'attempt failed before its result was written');
      if (fs.existsSync(this.#paths.result)) return undefined;
      return this.#writeResult(task, attempt, {
        outcome: 'failed',
        reason: 'spawn-failed',
        exit_code: null,
        signal: null,
        summary: `the worker could not run the attempt: ${(e as Error).message}`,
      });
    });
  }

  /** Stops the attempt (its backend kills its process group); the result says why. */
  stop(reason: StopReason): void {
    if (!this.#controller.signal.aborted) this.#controller.abort(reason);
  }

  /** Refreshes status.json's heartbeat (and its activity line). */
  heartbeat(): void {
    if (!this.#status || this.#status.state === 'finished') return;
    this.#status.heartbeat_at = new Date().toISOString();
    // A command's output is its activity; an agent's is what its backend reports (a CLI's stdout is
    // its JSON stream, no line for people).
    if (this.#status.turn === null && !this.#agent)
      this.#status.activity = lastLine(this.#paths.stdout) ?? lastLine(this.#paths.stderr) ?? this.#status.activity;
    // Synchronous, so a heartbeat can never land after the final `finished` status. No fsync: see NO_SYNC.
    writeJsonAtomicSync(this.#paths.status, this.#status, NO_SYNC);
  }

  async #run(): Promise<AttemptResult | undefined> {
    if (fs.existsSync(this.#paths.result)) {
      this.#log.warn({ dir: this.#paths.dir }, 'result.json already exists; attempt not run again');
      return undefined;
    }
    const written = readJsonFile(this.#paths.assignment, AssignmentSchema); // throws if invalid
    if (!written) throw new Error(`${this.#paths.assignment} is missing`);
    const assignment = localize(written, this.#view);
    this.#agent = assignment.agent !== null;
    if (this.#controller.signal.aborted) {
      const why = this.#controller.signal.reason as StopReason;
      return this.#writeResult(assignment.task.id, assignment.attempt, {
        outcome: why === 'timed-out' ? 'timed-out' : 'cancelled',
        reason: why,
        exit_code: null,
        signal: null,
        summary: `stopped before it started (${why})`,
      });
    }
    const started = new Date();
    const now = started.toISOString();
    this.#status = {
      state: 'starting',
      worker: this.#workerId,
      host: HOST,
      pgid: null,
      started_at: now,
      heartbeat_at: now,
      turn: null,
      activity: null,
      usage: null,
    };
    writeJsonAtomicSync(this.#paths.status, this.#status, NO_SYNC);
    fs.writeFileSync(this.#paths.prompt, promptOf(assignment));
    const events = fs.openSync(this.#paths.events, 'a');
    let seq = 0;
    const emit = (e: AttemptEvent): void => {
      fs.writeSync(events, JSON.stringify({ seq: ++seq, at: new Date().toISOString(), ...e }) + '\n');
    };
    this.#timeout = setTimeout(() => this.stop('timed-out'), timerDelay(assignment.timeout_ms));
    const workspace = workspaceFor(assignment, this.#log, this.#view);
    let outcome: BackendOutcome;
    let verify: AttemptResult['verify'] = null;
    let work: WorkspaceCommit;
    let proxied: Sandbox | undefined;
    try {
      const dir = await workspace.prepare();
      const sandbox = Sandbox.forAttempt(assignment);
      let proxyError: string | undefined;
      if (sandbox.ok && sandbox.value?.needsProxy) {
        try {
          await sandbox.value.startProxy(this.#paths.network);
          proxied = sandbox.value;
        } catch (e) {
          proxyError = `could not start the sandbox's proxy for allow_hosts: ${(e as Error).message}`;
        }
      }
      if (!dir.ok) {
        outcome = { outcome: 'failed', reason: 'workspace-failed', exit_code: null, signal: null, summary: dir.error };
      } else if (!sandbox.ok) {
        outcome = { outcome: 'failed', reason: 'spawn-failed', exit_code: null, signal: null, summary: sandbox.error };
      } else if (proxyError) {
        outcome = { outcome: 'failed', reason: 'spawn-failed', exit_code: null, signal: null, summary: proxyError };
      } else {
        outcome = await this.#runBackend(assignment, dir.value, sandbox.value, emit);
        if (outcome.outcome === 'succeeded' && assignment.resolve) outcome = unresolved(assignment, outcome);
        if (outcome.outcome === 'succeeded' && assignment.task.verify)
          ({ outcome, verify } = await this.#verified(
            assignment,
            dir.value,
            sandbox.value,
            assignment.task.verify,
            outcome,
          ));
      }
      // Every attempt's work is committed and kept by its ref, whatever the outcome: no work is lost.
      work = await workspace.commit();
      if (work.kind === 'failed' && outcome.outcome === 'succeeded')
        outcome = {
          ...outcome,
          outcome: 'failed',
          reason: 'workspace-failed',
          summary: `could not commit the work: ${work.message}`,
        };
    } finally {
      clearTimeout(this.#timeout);
      fs.closeSync(events);
      await proxied?.stopProxy();
    }
    const finished = new Date();
    const result: AttemptResult = {
      protocol: PROTOCOL_VERSION,
      task: assignment.task.id,
      attempt: assignment.attempt,
      worker: this.#workerId,
      ...outcome,
      started_at: now,
      finished_at: finished.toISOString(),
      duration_ms: finished.getTime() - started.getTime(),
      stderr_tail: lastLines(this.#paths.stderr, STDERR_TAIL_LINES),
      usage: outcome.usage ?? null,
      turns: outcome.turns ?? null,
      session: outcome.session ?? null,
      commit: work.kind === 'committed' ? work.commit : null,
      files_changed: filesChanged(work),
      verify,
    };
    // The commit point: once result.json exists, this attempt is never run again.
    writeJsonAtomicSync(this.#paths.result, result);
    this.#status = { ...this.#status, state: 'finished', heartbeat_at: result.finished_at };
    writeJsonAtomicSync(this.#paths.status, this.#status, NO_SYNC);
    this.#log.info(
      {
        task: result.task,
        attempt: result.attempt,
        outcome: result.outcome,
        reason: result.reason,
        ms: result.duration_ms,
      },
      'attempt finished',
    );
    await workspace.release();
    return result;
  }

  /** Writes a result for an attempt that did not run (or whose run broke), and marks it finished. */
  #writeResult(task: string, attempt: number, outcome: BackendOutcome): AttemptResult {
    const now = new Date().toISOString();
    const result: AttemptResult = {
      protocol: PROTOCOL_VERSION,
      task,
      attempt,
      worker: this.#workerId,
      ...outcome,
      started_at: now,
      finished_at: now,
      duration_ms: 0,
      stderr_tail: [],
      usage: outcome.usage ?? null,
      turns: outcome.turns ?? null,
      session: outcome.session ?? null,
      commit: null,
      files_changed: null,
      verify: null,
    };
    writeJsonAtomicSync(this.#paths.result, result);
    if (this.#status)
      writeJsonAtomicSync(this.#paths.status, { ...this.#status, state: 'finished', heartbeat_at: now }, NO_SYNC);
    return result;
  }

  /** Loads the task's backend and runs it in `dir`; a backend that throws gives a failed outcome. */
  async #runBackend(
    a: Assignment,
    dir: string,
    sandbox: Sandbox | null,
    emit: (e: AttemptEvent) => void,
  ): Promise<BackendOutcome> {
    try {
      const backend = await loadBackend(a.task.backend);
      return await backend.run({
        assignment: a,
        paths: this.#paths,
        workspace: dir,
        signal: this.#controller.signal,
        env: { ...process.env, ...a.env },
        sandbox,
        onSpawn: (pgid) => this.#spawned(pgid),
        emit,
        progress: (p) => {
          this.#status = {
            ...this.#status!,
            state: 'running',
            turn: p.turn,
            activity: p.activity,
            usage: p.usage,
            heartbeat_at: new Date().toISOString(),
          };
          writeJsonAtomicSync(this.#paths.status, this.#status);
        },
        log: this.#log,
      });
    } catch (e) {
      // A backend that throws has a bug; the attempt still gets a result so the run can go on.
      this.#log.error({ err: e }, 'backend threw');
      return {
        outcome: 'failed',
        reason: 'spawn-failed',
        exit_code: null,
        signal: null,
        summary: `backend error: ${(e as Error).message}`,
      };
    }
  }

  /**
   * Runs the task's verify command after a succeeded backend, and says what the attempt's outcome
   * becomes: stopped while verifying (the stop's reason decides), `verify-failed`, or unchanged.
   */
  async #verified(
    a: Assignment,
    dir: string,
    sandbox: Sandbox | null,
    command: string,
    outcome: BackendOutcome,
  ): Promise<{ outcome: BackendOutcome; verify: NonNullable<AttemptResult['verify']> }> {
    const verify = await this.#verify(a, dir, sandbox, command);
    if (this.#controller.signal.aborted) {
      // Stopped while verifying: the stop's reason decides, as it would have during the command.
      const why = this.#controller.signal.reason as StopReason;
      return {
        verify,
        outcome: {
          ...outcome,
          outcome: why === 'timed-out' ? 'timed-out' : 'cancelled',
          reason: why,
          exit_code: null,
          signal: null,
          summary: `stopped while verifying (${why})`,
        },
      };
    }
    if (verify.exit_code !== 0)
      return {
        verify,
        outcome: {
          ...outcome,
          outcome: 'failed',
          reason: 'verify-failed',
          summary: `verify \`${command}\` failed${verify.exit_code === null ? '' : ` with exit code ${verify.exit_code}`}`,
        },
      };
    return { verify, outcome };
  }

  /**
   * Runs the task's verify command in the workspace directory `dir` (in the attempt's sandbox, if it
   * has one); its output goes to verify.log.
   */
  async #verify(
    a: Assignment,
    dir: string,
    sandbox: Sandbox | null,
    command: string,
  ): Promise<NonNullable<AttemptResult['verify']>> {
    const env: Record<string, string | undefined> = sandbox?.env() ?? { ...process.env, ...a.env };
    for (const variable of hiddenEnv(a.agent)) delete env[variable]; // an agent task's checks do not get the key either
    const exit = await runShell({
      command,
      cwd: dir,
      env,
      sandbox,
      stdout: this.#paths.verify,
      stderr: this.#paths.verify,
      signal: this.#controller.signal,
      killGraceMs: a.kill_grace_ms,
      onSpawn: (pgid) => this.#spawned(pgid),
    });
    // The shell never ran (E2BIG, a NUL byte, no sandbox): say so where its output goes.
    if (exit.kind === 'spawn-failed') {
      try {
        fs.appendFileSync(this.#paths.verify, `could not start: ${exit.message}\n`);
      } catch {
        // A full disk: the result still says the check failed.
      }
    }
    return {
      command,
      exit_code: exit.kind === 'exited' ? exit.exitCode : null,
      output_tail: lastLines(this.#paths.verify, STDERR_TAIL_LINES),
    };
  }

  #spawned(pgid: number): void {
    this.#status = { ...this.#status!, state: 'running', pgid };
    writeJsonAtomicSync(this.#paths.status, this.#status, NO_SYNC);
  }
}

/** `files_changed` of result.json: the commit's files; [] when nothing was committed; null in place. */
function filesChanged(work: WorkspaceCommit): string[] | null {
  switch (work.kind) {
    case 'committed':
      return work.files;
    case 'unchanged':
    case 'failed':
      return [];
    case 'untracked':
      return null;
    default:
      return unreachable(work, 'workspace commit');
  }
}

/** The prompt of a command attempt: the command itself (agent backends replace it with their real prompt when they start). */
function promptOf(a: Assignment): string {
  if (isAgentBackend(a.task.backend))
    return `# ${a.task.title}\n\nAgent task (attempt ${a.attempt}, backend ${a.task.backend}); the agent's prompt replaces this when it starts.\n\n${a.task.description}\n`;
  return `# ${a.task.title}\n\nCommand (attempt ${a.attempt}), run with /bin/sh -c in ${a.workspace}:\n\n\`\`\`sh\n${a.task.run ?? ''}\n\`\`\`\n`;
}

function lastLine(file: string): string | undefined {
  const line = lastLines(file, 1)[0]?.trim();
  return line ? line.slice(0, 300) : undefined;
}

/** A line git writes to open or close a conflict (`<<<<<<< ours`, `>>>>>>> theirs`). */
const CONFLICT_MARKER = /^(<{7}|>{7})( |$)/m;

/**
 * A resolver's attempt that says it succeeded but left conflict markers in a conflicting file
 * fails (`verify-failed`): its commit would merge the markers.
 */
function unresolved(a: Assignment, outcome: BackendOutcome): BackendOutcome {
  const root = a.git?.worktree ?? a.workspace;
  const left = a.resolve!.files.filter((f) => {
    try {
      return CONFLICT_MARKER.test(fs.readFileSync(path.join(root, f), 'utf8'));
    } catch {
      return false; // deleted: a resolution too
    }
  });
  if (left.length === 0) return outcome;
  return {
    ...outcome,
    outcome: 'failed',
    reason: 'verify-failed',
    summary: `conflict markers left in ${left.join(', ')}`,
  };
}
