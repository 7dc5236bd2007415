// The buttons that change a run: pause / resume dispatch and stop the run (control requests the
// coordinator applies), resume a run whose coordinator is gone, and cancel or retry one task.
// Each answers at once with the server's 202 or error; what the coordinator made of a request
// arrives in the event stream.
import { useState } from 'react';
import { ApiError, control, resumeRun } from './api';
import type { ControlAction, StatusReport, TaskState } from './types';

/** Sends one request at a time and keeps its outcome to show. */
function useAction(): {
  busy: boolean;
  error: string | null;
  run: (f: () => Promise<unknown>) => Promise<void>;
} {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async (f: () => Promise<unknown>): Promise<void> => {
    setBusy(true);
    setError(null);
    try {
      await f();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run };
}

/**
 * The run's buttons. A live coordinator takes pause / resume / stop; a run whose coordinator is
 * gone and that has not finished can be resumed (`onResumed` then reopens the event stream).
 */
export function RunControls({ report, onResumed }: { report: StatusReport; onResumed: () => void }) {
  const { busy, error, run } = useAction();
  const id = report.run.id;
  const alive = report.coordinator.liveness === 'alive';
  const finished = report.phase === 'finished';
  const send = (action: ControlAction) => run(() => control(id, action));
  return (
    <div className="controls" role="group" aria-label="Run controls">
      {alive && !finished && (
        <>
          {report.phase === 'paused' ? (
            <button type="button" disabled={busy} onClick={() => void send('resume')} data-testid="run-unpause">
              Resume dispatch
            </button>
          ) : (
            <button
              type="button"
              disabled={busy || report.phase !== 'running'}
              onClick={() => void send('pause')}
              data-testid="run-pause"
            >
              Pause
            </button>
          )}
          <button
            type="button"
            className="danger"
            disabled={busy || report.phase === 'stopping'}
            onClick={() => void send('stop-run')}
            data-testid="run-stop"
          >
            Stop run
          </button>
        </>
      )}
      {!alive && !finished && (
        <button
          type="button"
          className="primary"
          disabled={busy}
          onClick={() => void run(async () => (await resumeRun(id), onResumed()))}
          data-testid="run-resume"
          title={report.resume_command ?? undefined}
        >
          Resume run
        </button>
      )}
      {error && (
        <span className="error inline" role="alert">
          {error}
        </span>
      )}
    </div>
  );
}

/** Whether a task in `state` can be cancelled (it has not ended) or retried (it ended without success). */
export function taskActions(state: TaskState): { cancel: boolean; retry: boolean } {
  return {
    cancel: state === 'pending' || state === 'ready' || state === 'running',
    retry: state === 'failed' || state === 'skipped' || state === 'cancelled',
  };
}

/** A task's buttons: cancel while it has not ended, retry once it failed, was skipped or cancelled. */
export function TaskControls({ runId, task, state }: { runId: string; task: string; state: TaskState }) {
  const { busy, error, run } = useAction();
  const [sent, setSent] = useState<string | null>(null);
  const can = taskActions(state);
  const send = (action: ControlAction) =>
    run(async () => {
      await control(runId, action, task);
      setSent(action);
    });
  return (
    <div className="controls" role="group" aria-label={`Controls of ${task}`}>
      {can.cancel && (
        <button
          type="button"
          className="danger"
          disabled={busy}
          onClick={() => void send('cancel-task')}
          data-testid="task-cancel"
        >
          Cancel task
        </button>
      )}
      {can.retry && (
        <button type="button" disabled={busy} onClick={() => void send('retry-task')} data-testid="task-retry">
          Retry task
        </button>
      )}
      {sent && !error && <span className="muted">{sent} requested</span>}
      {error && (
        <span className="error inline" role="alert">
          {error}
        </span>
      )}
    </div>
  );
}
