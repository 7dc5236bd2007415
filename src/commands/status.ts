// `swarm status <run-dir> [--json] [--follow]`: the run's facts as text or JSON, from the run
// directory alone.
import prettyMs from 'pretty-ms';
import { readJsonFile } from '../protocol/files.js';
import { coordinatorLiveness, parseEvents, loadRun, type RunSnapshot } from '../protocol/run-reader.js';
import { CoordinatorJsonSchema } from '../protocol/schemas.js';
import { readJsonl } from '../protocol/jsonl.js';
import type { SwarmEvent } from '../protocol/events.js';
import { applyEvent, type RunState } from '../protocol/state.js';
import type { Usage } from '../protocol/schemas.js';
import { totalTokens } from '../protocol/usage.js';
import { ConsolePresenter, type Output } from '../presenter/console.js';
import { DirectoryWatcher } from '../util/watch.js';
import { EXIT, integrationSummary } from './session.js';

/** One task's line of the status, as `--json` prints it. */
export interface TaskStatus {
  id: string;
  state: string;
  wave: number;
  attempts: number;
  /** Elapsed time of the running attempt, or the last attempt's duration, ms. */
  duration_ms: number | null;
  /** Reason of the last attempt that did not succeed, or why the task was skipped. */
  note: string | null;
  worker: string | null;
  /** Spent by the task's finished attempts, USD (0 for command tasks). */
  cost_usd: number;
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
  /** Git isolation: the integration branch, where it started, its tip now. */
  git: { branch: string; base: string; tip: string } | null;
  /** Spent by the planner and finished attempts (running attempts' spend is in their status.json). */
  usage: Usage;
  /** The run's caps and whether dispatch stopped on them. */
  budget: RunState['budget'];
  tasks: TaskStatus[];
}

/** Builds the status report of a loaded run. */
export function statusReport(snap: RunSnapshot, now = Date.now()): StatusReport {
  const { state, run, plan, coordinator, liveness } = snap;
  const tasks: TaskStatus[] = (plan?.tasks ?? []).map((t) => {
    const s = state.tasks[t.id];
    if (!s) return { id: t.id, state: 'pending', wave: t.wave, attempts: 0, duration_ms: null, note: null, worker: null, cost_usd: 0 };
    const since = s.current?.started_at ?? s.current?.assigned_at;
    const duration = since ? now - Date.parse(since) : (s.last?.duration_ms ?? null);
    let note: string | null = null;
    if (s.state === 'skipped') note = `${s.skipped_because} did not succeed`;
    else if (s.last && s.last.outcome !== 'succeeded') note = s.last.summary;
    if (s.not_before && s.state === 'ready') note = `retry at ${s.not_before}${note ? ` after: ${note}` : ''}`;
    return { id: t.id, state: s.state, wave: t.wave, attempts: s.attempts, duration_ms: duration, note, worker: s.current?.worker ?? null, cost_usd: s.usage.cost_usd };
  });
  const gone = liveness !== 'alive';
  return {
    run: { id: run.id, goal: run.goal, dir: snap.paths.root, created_at: run.created_at },
    phase: state.phase,
    outcome: state.outcome,
    coordinator: { liveness, pid: coordinator?.pid ?? null, host: coordinator?.host ?? null, heartbeat_at: coordinator?.heartbeat_at ?? null },
    resume_command: gone && state.phase !== 'finished' ? `swarm resume ${snap.paths.root}` : null,
    counts: { ...state.counts },
    total: tasks.length,
    git: state.git,
    usage: state.usage,
    budget: state.budget,
    tasks,
  };
}

/**
 * Renders the report as text for a terminal or a CI log.
 * @param integration the integration-branch summary (git isolation), or ''.
 */
export function formatStatus(r: StatusReport, integration = ''): string {
  const lines: string[] = [];
  lines.push(`run ${r.run.id}${r.run.goal ? `: ${r.run.goal}` : ''}`);
  lines.push(`directory: ${r.run.dir}`);
  const coord =
    r.coordinator.liveness === 'alive' ? `coordinator alive (pid ${r.coordinator.pid})`
    : r.coordinator.liveness === 'stopped' ? 'coordinator exited'
    : r.coordinator.liveness === 'dead' ? `coordinator DEAD (pid ${r.coordinator.pid} is gone)`
    : r.coordinator.liveness === 'unknown' ? `coordinator on ${r.coordinator.host}: no heartbeat since ${r.coordinator.heartbeat_at}`
    : 'no coordinator has run';
  lines.push(`phase: ${r.phase}${r.outcome ? ` (${r.outcome})` : ''} · ${coord}`);
  const c = r.counts;
  const done = (c.succeeded ?? 0) + (c.failed ?? 0) + (c.skipped ?? 0) + (c.cancelled ?? 0);
  lines.push(
    `tasks: ${done}/${r.total} done · ${c.succeeded} succeeded, ${c.failed} failed, ${c.skipped} skipped, ${c.cancelled} cancelled, ${c.running} running, ${c.ready} ready, ${c.pending} pending`,
  );
  if (r.usage.cost_usd > 0 || r.budget.max_cost_usd !== null || r.budget.max_tokens !== null) lines.push(`spend: ${formatSpend(r.usage, r.budget)}`);
  if (integration) lines.push(integration.trimEnd());
  if (r.resume_command) lines.push(`the run is not finished and no coordinator is running it; continue with:\n  ${r.resume_command}`);
  lines.push('');
  const width = Math.max(4, ...r.tasks.map((t) => t.id.length));
  const costs = r.tasks.some((t) => t.cost_usd > 0);
  lines.push(`${'TASK'.padEnd(width)}  ${'STATE'.padEnd(9)}  ${'ATT'.padStart(3)}  ${'DURATION'.padStart(9)}  ${costs ? `${'COST'.padStart(8)}  ` : ''}NOTE`);
  for (const t of r.tasks) {
    const dur = t.duration_ms === null ? '' : prettyMs(t.duration_ms, { secondsDecimalDigits: 1 });
    const note = t.state === 'running' ? `on ${t.worker}` : (t.note ?? '');
    const cost = costs ? `${`$${t.cost_usd.toFixed(4)}`.padStart(8)}  ` : '';
    lines.push(`${t.id.padEnd(width)}  ${t.state.padEnd(9)}  ${String(t.attempts).padStart(3)}  ${dur.padStart(9)}  ${cost}${note}`);
  }
  return lines.join('\n') + '\n';
}

/** Spend against the caps: `$0.1234 of $5 (2%), 45,000 tokens of 1,000,000` (budget exhausted noted). */
export function formatSpend(u: Usage, b: RunState['budget']): string {
  const tokens = totalTokens(u);
  const pct = (x: number, cap: number): string => ` (${Math.floor((100 * x) / cap)}%)`;
  const cost = `$${u.cost_usd.toFixed(4)}${b.max_cost_usd !== null ? ` of $${b.max_cost_usd}${pct(u.cost_usd, b.max_cost_usd)}` : ''}`;
  const tok = `${tokens.toLocaleString('en-US')} tokens${b.max_tokens !== null ? ` of ${b.max_tokens.toLocaleString('en-US')}${pct(tokens, b.max_tokens)}` : ''}`;
  return `${cost}, ${tok}${b.exhausted ? ' · budget exhausted: raise it with swarm resume --max-cost-usd N' : ''}`;
}

/** `swarm status`: prints once, or with `follow`, prints then streams events until the run ends or its coordinator is gone. */
export async function statusCommand(runDir: string, options: { json?: boolean; follow?: boolean }, out: Output, err: Output): Promise<number> {
  let snap: RunSnapshot;
  try {
    snap = loadRun(runDir);
  } catch (e) {
    err.write(`swarm: ${(e as Error).message}\n`);
    return EXIT.cannotStart;
  }
  const report = statusReport(snap);
  out.write(options.json ? JSON.stringify(report, null, options.follow ? 0 : 2) + '\n' : formatStatus(report, integrationSummary(snap.run.repo, snap.state.git)));
  if (!options.follow) return 0;

  const presenter = new ConsolePresenter(out, snap.state.started_at ? Date.parse(snap.state.started_at) : Date.now());
  let offset = snap.eventsOffset;
  const staleAfterMs = (snap.run.config.liveness as { stale_after?: number } | undefined)?.stale_after ?? 15_000;
  const state = snap.state;
  return new Promise<number>((resolve) => {
    const check = (): void => {
      try {
        follow();
      } catch (e) {
        void watcher.close();
        err.write(`swarm: ${(e as Error).message}\n`);
        resolve(EXIT.cannotStart);
      }
    };
    const follow = (): void => {
      const chunk = readJsonl(snap.paths.eventsJsonl, offset);
      offset = chunk.offset;
      for (const e of parseEvents(snap.paths.eventsJsonl, chunk.records) as SwarmEvent[]) {
        applyEvent(state, e); // throws on a gap or a repeated seq: a corrupt log is reported, not hidden
        if (options.json) out.write(JSON.stringify(e) + '\n');
        else presenter.onEvent(e, state);
      }
      let coordinator;
      try {
        coordinator = readJsonFile(snap.paths.coordinatorJson, CoordinatorJsonSchema);
      } catch {
        return; // being replaced: look again at the next change
      }
      const alive = coordinatorLiveness(coordinator, staleAfterMs) === 'alive';
      if (state.phase === 'finished' || !alive) {
        void watcher.close();
        if (!options.json && state.phase !== 'finished') out.write(`coordinator is not running; continue with: swarm resume ${snap.paths.root}\n`);
        resolve(0);
      }
    };
    const watcher = new DirectoryWatcher([snap.paths.root], check, 500);
  });
}
