// One run: its header (goal, phase, progress, spend, controls), its DAG, the task list and the
// selected task's detail. Kept current by the run's event stream: each event asks for a fresh
// status report, and the refresher makes that a few fetches a second at most.
import { useCallback, useEffect, useState } from 'react';
import { ApiError, getStatus, TOKEN_MESSAGE } from './api';
import { BudgetBar } from './BudgetBar';
import { RunControls } from './Controls';
import { DagView } from './DagView';
import { formatAgo, formatDuration } from './format';
import { PhaseBadge } from './PhaseBadge';
import { Progress } from './Progress';
import { navigate } from './router';
import { TaskDetailPanel } from './TaskDetail';
import { TaskList } from './TaskList';
import type { StatusReport, WaveRange } from './types';
import { useRefresher } from './use-refresher';
import { useRunEvents } from './use-run-events';

/** While a live run's tasks run, the report (durations, activity) is read again this often, ms. */
const TICK_MS = 5000;

/** How long a just-started run may take to write its run.json (a planner may be at work), ms. */
const START_WAIT_MS = 10 * 60_000;

/** The run view of run `id`, with task `task` selected (or none). */
export function RunView({ id, task }: { id: string; task: string | null }) {
  const [report, setReport] = useState<StatusReport | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [opened] = useState(() => Date.now());
  const [generation, setGeneration] = useState(0);
  const [waves, setWaves] = useState<WaveRange | null>(null);

  const refresh = useRefresher(
    useCallback(async () => {
      try {
        setReport(await getStatus(id));
        setError(null);
      } catch (e) {
        setError(e instanceof ApiError ? e : new ApiError(0, 'error', String(e)));
      }
    }, [id]),
  );

  const stream = useRunEvents(id, refresh, generation);

  useEffect(() => refresh(), [refresh]);

  // A run just started has no run.json yet (404): ask again until it has. A live run's running
  // tasks change without events (their time, an agent's activity): read it now and then.
  const waiting = error?.status === 404 && Date.now() - opened < START_WAIT_MS;
  const ticking = report?.coordinator.liveness === 'alive' && report.phase !== 'finished';
  useEffect(() => {
    if (!waiting && !ticking) return;
    const timer = setInterval(refresh, waiting ? 500 : TICK_MS);
    return () => clearInterval(timer);
  }, [waiting, ticking, refresh]);

  const select = (t: string | null): void => navigate({ page: 'run', id, task: t }, true);

  if (!report) {
    return (
      <section className="panel" data-testid="run-loading">
        {error && !waiting ? (
          <p className="error" role="alert">
            {error.unauthorized ? TOKEN_MESSAGE : error.message}
          </p>
        ) : (
          <p className="muted">{waiting ? `Run ${id} is starting…` : 'Loading…'}</p>
        )}
      </section>
    );
  }

  const selected = task ? (report.tasks.find((t) => t.id === task) ?? null) : null;
  return (
    <div className="run-view" data-testid="run-view" data-run={id}>
      <section className="panel run-header">
        <div className="run-heading">
          <h1>{report.run.goal ?? 'Run'}</h1>
          <code className="muted">{report.run.id}</code>
        </div>
        <div className="run-facts">
          <PhaseBadge phase={report.phase} outcome={report.outcome} />
          <span title={report.coordinator.host ?? undefined}>
            coordinator: <strong data-testid="run-liveness">{report.coordinator.liveness}</strong>
          </span>
          <span>elapsed {formatDuration(report.elapsed_ms)}</span>
          <span title={new Date(report.run.created_at).toLocaleString()}>
            started {formatAgo(report.run.created_at)}
          </span>
          {report.git && (
            <span>
              branch <code>{report.git.branch}</code> at <code>{report.git.tip.slice(0, 10)}</code>
            </span>
          )}
          {report.git && report.integration && (
            <span data-testid="run-verified">
              {report.integration.verified?.tip === report.git.tip
                ? `tip verified by check ${report.integration.verified.check}`
                : report.integration.check
                  ? `checking ${report.integration.check.tip.slice(0, 10)} (check ${report.integration.check.check})`
                  : `${report.integration.queue.length} merge(s) not verified`}
              {` · ${report.integration.checks} check(s)`}
            </span>
          )}
        </div>
        <Progress counts={report.counts} total={report.total} />
        <BudgetBar usage={report.usage} budget={report.budget} />
        <RunControls report={report} onResumed={() => setGeneration((g) => g + 1)} />
        <StreamLine stream={stream} error={error} finished={report.phase === 'finished'} />
      </section>
      <section className="panel dag-panel" aria-label="Task graph">
        <DagView tasks={report.tasks} selected={task} onSelect={select} onWaves={setWaves} />
      </section>
      <section className="panel list-panel" aria-label="Tasks">
        <TaskList tasks={report.tasks} selected={task} onSelect={select} waves={waves} onWaves={setWaves} />
      </section>
      <section className="panel detail-panel" aria-label="Task detail">
        {selected ? (
          <TaskDetailPanel runId={id} task={selected} onClose={() => select(null)} />
        ) : (
          <p className="muted">Select a task in the graph or the list to see its attempts and output.</p>
        )}
      </section>
    </div>
  );
}

/** The state of the event stream, and the coordinator's last word. */
function StreamLine({
  stream,
  error,
  finished,
}: {
  stream: ReturnType<typeof useRunEvents>;
  error: ApiError | null;
  finished: boolean;
}) {
  let state: string;
  if (error?.unauthorized || (stream.failed && error)) state = error.message;
  else if (stream.failed) state = 'event stream refused by the server';
  else if (stream.ended === 'finished') state = 'run finished';
  else if (stream.ended === 'coordinator-gone') state = 'the coordinator is gone: the run can be resumed';
  else if (stream.ended) state = `event stream ended: ${stream.ended}`;
  else if (stream.live) state = 'live';
  else state = finished ? 'run finished' : 'connecting…';
  return (
    <div className="stream-line">
      <span className={`dot ${stream.live ? 'dot-live' : ''}`} aria-hidden />
      <span data-testid="stream-state">{state}</span>
      {stream.messages.length > 0 && (
        <ul className="said-list" data-testid="run-messages" aria-label="What the coordinator said">
          {stream.messages.map((m) => (
            <li key={m.seq} className={`said tone-${m.tone}`}>
              {m.text}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
