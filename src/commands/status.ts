// `swarm status <run-dir> [--json] [--follow]`: the run's facts as text or JSON, from the run
// directory alone.
import fs from 'node:fs';
import { totalTokens } from '../protocol/usage.js';
import prettyMs from 'pretty-ms';
import { loadRun, NotARunError, type CoordinatorLiveness, type RunSnapshot } from '../protocol/run-reader.js';
import { followRun } from '../protocol/follow.js';
import { formatCost, formatDuration, formatTokens } from '../presenter/format.js';
import { coordinatorPhrase } from '../dashboard/model.js';
import { statusReport, type StatusReport } from '../presenter/status-report.js';
import { applyEvent } from '../protocol/state.js';
import { ConsolePresenter, type Output } from '../presenter/console.js';
import { integrationSummary } from '../presenter/integration-summary.js';
import { EXIT } from '../run/exit-codes.js';
import { creationMessage, findCreation } from '../run/interrupted-creation.js';
import { raisedCapOptions } from '../presenter/resume-hint.js';

/**
 * Renders the report as text for a terminal or a CI log.
 * @param integration the integration-branch summary (git isolation), or ''.
 */
export function formatStatus(r: StatusReport, integration = ''): string {
  const lines: string[] = [];
  lines.push(`run ${r.run.id}${r.run.goal ? `: ${r.run.goal}` : ''}`);
  lines.push(`directory: ${r.run.dir}`);
  const coord = coordinatorPhrase(
    r.coordinator.liveness as CoordinatorLiveness,
    r.coordinator.pid === null
      ? undefined
      : { pid: r.coordinator.pid, host: r.coordinator.host ?? '', heartbeat_at: r.coordinator.heartbeat_at ?? '' },
  );
  lines.push(
    `phase: ${r.phase}${r.outcome ? ` (${r.outcome})` : ''} · ${coord}${r.elapsed_ms !== null ? ` · ${formatDuration(r.elapsed_ms)}` : ''}`,
  );
  const c = r.counts;
  const done = (c.succeeded ?? 0) + (c.failed ?? 0) + (c.skipped ?? 0) + (c.cancelled ?? 0);
  lines.push(
    `tasks: ${done}/${r.total} done · ${c.succeeded} succeeded, ${c.failed} failed, ${c.skipped} skipped, ${c.cancelled} cancelled, ${c.running} running, ${c.ready} ready, ${c.pending} pending`,
  );
  if (r.usage || r.budget) {
    const cost = r.usage?.cost_usd != null ? formatCost(r.usage.cost_usd) : '—';
    const cap = r.budget?.max_cost_usd != null ? ` of ${formatCost(r.budget.max_cost_usd)}` : '';
    const tokens = r.usage
      ? ` · ${formatTokens(totalTokens(r.usage))} tokens${r.budget?.max_tokens != null ? ` of ${formatTokens(r.budget.max_tokens)}` : ''}`
      : '';
    lines.push(`cost: ${cost}${cap}${tokens}${r.budget?.exhausted ? ' · budget exhausted' : ''}`);
  }
  if (integration) lines.push(integration.trimEnd());
  if (r.resume_command)
    lines.push(`the run is not finished and no coordinator is running it; continue with:\n  ${r.resume_command}`);
  lines.push('');
  const width = Math.max(4, ...r.tasks.map((t) => t.id.length));
  const costs = r.tasks.some((t) => t.cost_usd !== null);
  // The sandbox column is there when some task runs in one (command tasks alone run without).
  const sandboxes = r.tasks.some((t) => t.sandbox !== 'none');
  lines.push(
    `${'TASK'.padEnd(width)}  ${'STATE'.padEnd(9)}  ${'ATT'.padStart(3)}  ${'DURATION'.padStart(9)}${costs ? `  ${'COST'.padStart(7)}` : ''}${sandboxes ? `  ${'SANDBOX'.padEnd(9)}` : ''}  NOTE`,
  );
  for (const t of r.tasks) {
    const dur = t.duration_ms === null ? '' : prettyMs(t.duration_ms, { secondsDecimalDigits: 1 });
    const note = t.state === 'running' ? `on ${t.worker}${t.activity ? `: ${t.activity}` : ''}` : (t.note ?? '');
    const cost = costs ? `  ${formatCost(t.cost_usd).padStart(7)}` : '';
    lines.push(
      `${t.id.padEnd(width)}  ${t.state.padEnd(9)}  ${String(t.attempts).padStart(3)}  ${dur.padStart(9)}${cost}${sandboxes ? `  ${(t.sandbox === 'workspace+network' ? 'ws+net' : t.sandbox).padEnd(9)}` : ''}  ${note}`,
    );
  }
  return lines.join('\n') + '\n';
}

/**
 * `swarm status`: prints once, or with `follow`, prints then streams events (as console lines, or
 * JSON lines with `json`) until the run ends or its coordinator is gone. Returns the exit code:
 * 0, or 2 for a directory that is not a run (also one still being created, or left half-created
 * by a killed `swarm run`: the message says which) or a broken log (the message goes to `err`).
 */
export async function statusCommand(
  runDir: string,
  options: { json?: boolean; follow?: boolean },
  out: Output,
  err: Output,
): Promise<number> {
  let snap: RunSnapshot;
  try {
    snap = loadRun(runDir);
  } catch (e) {
    // A run directory still under its temporary name: being created, or left by a killed `swarm run`.
    const creation = e instanceof NotARunError ? findCreation(runDir) : undefined;
    err.write(`swarm: ${creation ? creationMessage(creation) : (e as Error).message}\n`);
    return EXIT.cannotStart;
  }
  const report = statusReport(snap);
  out.write(
    options.json
      ? JSON.stringify(report, null, options.follow ? 0 : 2) + '\n'
      : formatStatus(
          report,
          integrationSummary(
            snap.run.repo,
            snap.state,
            snap.run.source ? { runDir: snap.paths.root, published: fs.existsSync(snap.paths.publishJson) } : undefined,
          ),
        ),
  );
  if (!options.follow) return 0;

  const presenter = new ConsolePresenter(out, snap.state.started_at ? Date.parse(snap.state.started_at) : Date.now());
  const state = snap.state;
  try {
    const events = followRun({
      paths: snap.paths,
      from: { offset: snap.eventsOffset },
      staleAfterMs: snap.run.config.liveness.stale_after,
      finished: state.phase === 'finished',
    });
    for await (const e of events) {
      applyEvent(state, e); // throws on a gap or a repeated seq: a corrupt log is reported, not hidden
      if (options.json) out.write(JSON.stringify(e) + '\n');
      else presenter.onEvent(e, state);
    }
  } catch (e) {
    err.write(`swarm: ${(e as Error).message}\n`);
    return EXIT.cannotStart;
  }
  // The run finished, or its coordinator is gone: say how to go on when it did not finish.
  // A spent budget must be raised to go on (as `swarm run` and the dashboard say).
  const raise = state.budget.exhausted ? `${raisedCapOptions(state.budget)} ` : '';
  if (!options.json && state.phase !== 'finished')
    out.write(`coordinator is not running; continue with: swarm resume ${raise}${snap.paths.root}\n`);
  return 0;
}
