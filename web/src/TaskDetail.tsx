// The selected task: what it is, its buttons, and each attempt: how it ended (outcome, summary,
// exit code), its commit and the files it changed, its verify output, and its files (output,
// errors, an agent's events) read live while it runs.
import { useCallback, useEffect, useState } from 'react';
import { ApiError, getTask } from './api';
import { eventLines } from './attempt-events';
import { TaskControls } from './Controls';
import { formatCost, formatDuration } from './format';
import type { AttemptResult, LogFile, TaskDetail, TaskStatus } from './types';
import { useAttemptLog } from './use-attempt-log';

/** While an attempt of the task runs, its status.json is read again this often, ms. */
const POLL_MS = 2000;

/** Props of the detail panel: `task` is the task's line of the latest status report. */
export interface TaskDetailProps {
  runId: string;
  task: TaskStatus;
  onClose: () => void;
}

/** The detail panel of one task. */
export function TaskDetailPanel({ runId, task, onClose }: TaskDetailProps) {
  const [detail, setDetail] = useState<TaskDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [chosen, setChosen] = useState<number | null>(null);

  const load = useCallback(async () => {
    try {
      setDetail(await getTask(runId, task.id));
      setError(null);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
  }, [runId, task.id]);

  // Read again when the task changes state or gets another attempt, and while it runs.
  useEffect(() => {
    void load();
    if (task.state !== 'running') return;
    const timer = setInterval(() => void load(), POLL_MS);
    return () => clearInterval(timer);
  }, [load, task.state, task.attempts]);

  useEffect(() => setChosen(null), [task.id]);

  const attempts = detail?.task.id === task.id ? detail.attempts : [];
  const shown = attempts.find((a) => a.attempt === chosen) ?? attempts.at(-1);

  return (
    <div className="task-detail" data-testid="task-detail" data-task={task.id}>
      <div className="detail-head">
        <h2>
          <span className={`swatch state-${task.state}`} aria-hidden /> {task.id}
        </h2>
        <span className={`badge state-badge state-${task.state}`} data-testid="detail-state">
          {task.state}
        </span>
        <button type="button" className="close" onClick={onClose} aria-label="Close the task detail">
          ×
        </button>
      </div>
      {task.title !== task.id && <p className="detail-title">{task.title}</p>}
      <TaskControls key={task.id} runId={runId} task={task.id} state={task.state} />
      <dl className="facts">
        <dt>wave</dt>
        <dd>
          {task.wave}
          {task.critical && <span className="critical-tag">critical path</span>}
        </dd>
        <dt>depends on</dt>
        <dd>{task.deps.length ? task.deps.join(', ') : 'nothing'}</dd>
        {detail && (
          <>
            <dt>backend</dt>
            <dd>
              {detail.task.backend}
              {detail.task.role ? ` (role ${detail.task.role})` : ''}
            </dd>
            {detail.task.run && (
              <>
                <dt>command</dt>
                <dd>
                  <code className="wrap">{detail.task.run}</code>
                </dd>
              </>
            )}
          </>
        )}
        <dt>time</dt>
        <dd>{formatDuration(task.duration_ms)}</dd>
        {task.cost_usd !== null && (
          <>
            <dt>cost</dt>
            <dd>{formatCost(task.cost_usd)}</dd>
          </>
        )}
        {task.worker && (
          <>
            <dt>worker</dt>
            <dd>{task.worker}</dd>
          </>
        )}
        {task.activity && (
          <>
            <dt>doing</dt>
            <dd data-testid="detail-activity">{task.activity}</dd>
          </>
        )}
        {task.note && (
          <>
            <dt>note</dt>
            <dd>{task.note}</dd>
          </>
        )}
      </dl>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {attempts.length === 0 && detail && <p className="muted">No attempt yet.</p>}
      {attempts.length > 1 && (
        <div className="tabs" role="tablist" aria-label="Attempts">
          {attempts.map((a) => (
            <button
              key={a.attempt}
              type="button"
              role="tab"
              aria-selected={a.attempt === shown?.attempt}
              onClick={() => setChosen(a.attempt)}
            >
              attempt {a.attempt}
            </button>
          ))}
        </div>
      )}
      {shown && detail && (
        <Attempt
          key={`${task.id}/${shown.attempt}`}
          runId={runId}
          task={task.id}
          attempt={shown.attempt}
          result={shown.result}
          diffstat={shown.diffstat}
          activity={shown.status?.activity ?? null}
          command={detail.task.backend === 'command'}
        />
      )}
    </div>
  );
}

/** One attempt: its result once written, and its files. */
function Attempt(props: {
  runId: string;
  task: string;
  attempt: number;
  result: AttemptResult | null;
  diffstat: TaskDetail['attempts'][number]['diffstat'];
  activity: string | null;
  command: boolean;
}) {
  const { result } = props;
  const [file, setFile] = useState<LogFile>(props.command ? 'stdout' : 'events');
  return (
    <div className="attempt" data-testid="attempt" data-attempt={props.attempt}>
      <h3>
        Attempt {props.attempt}{' '}
        {result ? (
          <span className={`badge outcome-${result.outcome}`} data-testid="attempt-outcome">
            {result.outcome}
          </span>
        ) : (
          <span className="badge state-running">running</span>
        )}
      </h3>
      {result ? (
        <dl className="facts">
          <dt>summary</dt>
          <dd data-testid="attempt-summary">{result.summary}</dd>
          <dt>reason</dt>
          <dd>
            {result.reason}
            {result.exit_code !== null ? ` (exit ${result.exit_code})` : ''}
            {result.signal ? ` (${result.signal})` : ''}
          </dd>
          <dt>took</dt>
          <dd>
            {formatDuration(result.duration_ms)}
            {result.turns !== null ? ` · ${result.turns} turns` : ''}
            {result.usage ? ` · ${formatCost(result.usage.cost_usd)}` : ''}
          </dd>
          <dt>commit</dt>
          <dd>{result.commit ? <code data-testid="attempt-commit">{result.commit.slice(0, 12)}</code> : 'none'}</dd>
          {result.files_changed && result.files_changed.length > 0 && (
            <>
              <dt>files changed</dt>
              <dd>
                <ul className="files" data-testid="attempt-files">
                  {result.files_changed.map((f) => {
                    const stat = props.diffstat?.find((d) => d.path === f);
                    return (
                      <li key={f}>
                        <code>{f}</code>
                        {stat && (
                          <span className="diffstat">
                            {stat.added === null ? ' binary' : ` +${stat.added} −${stat.deleted ?? 0}`}
                          </span>
                        )}
                      </li>
                    );
                  })}
                </ul>
              </dd>
            </>
          )}
          {result.verify && (
            <>
              <dt>verify</dt>
              <dd>
                <code className="wrap">{result.verify.command}</code>{' '}
                {result.verify.exit_code === 0 ? 'passed' : `failed (exit ${result.verify.exit_code ?? '?'})`}
              </dd>
            </>
          )}
        </dl>
      ) : (
        props.activity && <p className="activity">{props.activity}</p>
      )}
      <div className="tabs" role="tablist" aria-label="Files of the attempt">
        {(['stdout', 'stderr', 'events', 'verify'] as const).map((f) => (
          <button
            key={f}
            type="button"
            role="tab"
            aria-selected={f === file}
            onClick={() => setFile(f)}
            data-testid={`log-tab-${f}`}
          >
            {f === 'events' ? (props.command ? 'events' : 'agent') : f}
          </button>
        ))}
      </div>
      <LogText {...props} file={file} live={result === null} />
    </div>
  );
}

/** One file of the attempt, read live while it runs. */
function LogText({
  runId,
  task,
  attempt,
  file,
  live,
}: {
  runId: string;
  task: string;
  attempt: number;
  file: LogFile;
  live: boolean;
}) {
  const log = useAttemptLog(runId, task, attempt, file, live);
  const lines = file === 'events' ? eventLines(log.text) : null;
  const empty = log.text.trim() === '';
  return (
    <div className="log" data-testid="attempt-log" data-file={file}>
      {log.error && <p className="error">{log.error}</p>}
      {log.truncated && <p className="muted">… the start of the file is left out</p>}
      {log.loading ? (
        <p className="muted">Reading…</p>
      ) : empty ? (
        <p className="muted">{live ? 'Nothing yet.' : 'Empty.'}</p>
      ) : lines ? (
        <pre>
          {lines.map((l, i) => (
            <span key={i} className={`line tone-${l.tone}`}>
              {l.text}
              {'\n'}
            </span>
          ))}
        </pre>
      ) : (
        <pre>{log.text}</pre>
      )}
    </div>
  );
}
