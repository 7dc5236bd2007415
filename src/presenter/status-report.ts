// The status of a run as data: what `swarm status --json` prints and the HTTP API answers, built
// from the run directory alone (through the dashboard's model).
import type { RunSnapshot } from '../protocol/run-reader.js';
import type { RunState } from '../protocol/state.js';
import type { SandboxSpec } from '../protocol/schemas.js';
import { sandboxFor } from '../config/sandbox.js';

/** A sandbox in one word: what `swarm status` shows per task. */
export function sandboxWord(s: Pick<SandboxSpec, 'mode' | 'network'>): TaskStatus['sandbox'] {
  return s.mode === 'none' ? 'none' : s.network === 'allow' ? 'workspace+network' : 'workspace';
}
import { RunModel } from '../dashboard/model.js';
import { readLiveAttempts } from '../dashboard/source.js';
import type { Budget, Usage } from '../dashboard/usage.js';

/** One task's line of the status, as `--json` prints it. */
export interface TaskStatus {
  id: string;
  title: string;
  role: string | null;
  state: string;
  wave: number;
  /** The tasks it depends on (the DAG's edges into it). */
  deps: string[];
  /** On the plan's critical path. */
  critical: boolean;
  attempts: number;
  /** Elapsed time of the running attempt, or the last attempt's duration, ms. */
  duration_ms: number | null;
  /** Cost of its attempts so far, USD (agent backends; null when none reported). */
  cost_usd: number | null;
  /** Reason of the last attempt that did not succeed, or why the task was skipped. */
  note: string | null;
  worker: string | null;
  /** A running agent's current step (its status.json `activity`), else null. */
  activity: string | null;
  /**
   * The sandbox its attempts run in, as the run's config resolves it (`sandboxFor`, as the
   * coordinator writes it into each assignment.json): `none`, `workspace` (no network) or
   * `workspace+network`.
   */
  sandbox: 'none' | 'workspace' | 'workspace+network';
}

/** The whole status, as `--json` prints it. */
export interface StatusReport {
  run: { id: string; goal: string | null; dir: string; created_at: string };
  phase: string;
  outcome: string | null;
  coordinator: { liveness: string; pid: number | null; host: string | null; heartbeat_at: string | null };
  /** The command that continues the run, when its coordinator is gone and it has not finished. */
  resume_command: string | null;
  counts: Record<string, number>;
  total: number;
  /** Since the run started, until it finished (or its coordinator last showed life), ms. */
  elapsed_ms: number | null;
  /** Token usage and cost so far (agent backends; null when none reported). */
  usage: Usage | null;
  /** The run's budget (null when it has none). */
  budget: Budget | null;
  /** Git isolation: the integration branch, where it started, its tip now. */
  git: { branch: string; base: string; tip: string } | null;
  /** Integration checks (`integration.verify`): the merge queue as state.json has it; null without them. */
  integration: RunState['integration'];
  tasks: TaskStatus[];
}

/** Builds the status report of a loaded run, from the dashboard's model. */
export function statusReport(snap: RunSnapshot, now = Date.now()): StatusReport {
  const model = RunModel.fromSnapshot(snap);
  readLiveAttempts(model, snap.paths); // running agents' activity and spend so far
  const h = model.header(now);
  const tasks: TaskStatus[] = model.plan.tasks.map((t) => {
    const r = model.row(t.id, now);
    return {
      id: r.id,
      title: r.title,
      role: r.role,
      state: r.state,
      wave: r.wave,
      deps: t.deps,
      critical: r.critical,
      attempts: r.attempts,
      duration_ms: r.duration_ms,
      cost_usd: r.cost_usd,
      note: r.note,
      worker: r.worker,
      activity: r.activity,
      sandbox: sandboxWord(sandboxFor(snap.run.config, { role: t.role, backend: t.backend }, { repo: snap.run.repo })),
    };
  });
  const { run, coordinator } = snap;
  return {
    run: { id: run.id, goal: run.goal, dir: snap.paths.root, created_at: run.created_at },
    phase: h.phase,
    outcome: h.outcome,
    coordinator: {
      liveness: h.liveness,
      pid: coordinator?.pid ?? null,
      host: coordinator?.host ?? null,
      heartbeat_at: coordinator?.heartbeat_at ?? null,
    },
    resume_command: h.resumeCommand,
    counts: { ...h.counts },
    total: tasks.length,
    elapsed_ms: h.elapsedMs,
    usage: h.usage,
    budget: h.budget,
    git: snap.state.git,
    integration: snap.state.integration,
    tasks,
  };
}
