// The form that starts a run (`POST /api/runs`): a config path inside the server's repository, an
// optional goal and worker count. A started run opens; a refused one shows the server's reasons,
// each config issue at its file:line:column.
import { useState, type FormEvent } from 'react';
import { ApiError, startRun } from './api';
import { navigate } from './router';
import type { ConfigIssue } from './types';

/** `file:line:col` of an issue. */
function place(issue: ConfigIssue): string {
  return issue.line !== undefined ? `${issue.file}:${issue.line}:${issue.col ?? 1}` : issue.file;
}

/** The start form. */
export function StartForm() {
  const [config, setConfig] = useState('swarm.yaml');
  const [goal, setGoal] = useState('');
  const [workers, setWorkers] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const n = Number.parseInt(workers, 10);
      const id = await startRun({
        config: config.trim(),
        ...(goal.trim() ? { goal: goal.trim() } : {}),
        ...(Number.isFinite(n) ? { workers: n } : {}),
      });
      navigate({ page: 'run', id, task: null });
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, 'error', (err as Error).message));
      setBusy(false);
    }
  };

  return (
    <form className="panel start-form" onSubmit={(e) => void submit(e)} data-testid="start-form">
      <h2>Start a run</h2>
      <label>
        <span>
          Config <span className="hint">(a path inside the repository)</span>
        </span>
        <input
          name="config"
          value={config}
          onChange={(e) => setConfig(e.target.value)}
          required
          spellCheck={false}
          data-testid="start-config"
        />
      </label>
      <label>
        <span>
          Goal <span className="hint">(optional)</span>
        </span>
        <textarea
          name="goal"
          value={goal}
          onChange={(e) => setGoal(e.target.value)}
          rows={2}
          data-testid="start-goal"
        />
      </label>
      <label>
        <span>
          Workers <span className="hint">(optional)</span>
        </span>
        <input
          name="workers"
          type="number"
          min={1}
          max={256}
          value={workers}
          onChange={(e) => setWorkers(e.target.value)}
          data-testid="start-workers"
        />
      </label>
      <button type="submit" className="primary" disabled={busy} data-testid="start-submit">
        {busy ? 'Starting…' : 'Start run'}
      </button>
      {error && (
        <div className="error" role="alert" data-testid="start-error">
          {error.issues.length > 0 ? (
            <>
              <p>The config has {error.issues.length === 1 ? 'a problem' : `${error.issues.length} problems`}:</p>
              <ul>
                {error.issues.map((issue, i) => (
                  <li key={i}>
                    <code>{place(issue)}</code> {issue.field && <code>{issue.field}</code>} {issue.message}
                  </li>
                ))}
              </ul>
            </>
          ) : (
            <p className="pre">{error.message}</p>
          )}
        </div>
      )}
    </form>
  );
}
