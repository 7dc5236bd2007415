// The runs of the server's runs directory, newest first (`GET /api/runs`), refreshed every few
// seconds; older pages on demand.
import { useCallback, useEffect, useState } from 'react';
import { ApiError, listRuns } from './api';
import { formatAgo, formatCost } from './format';
import { PhaseBadge } from './PhaseBadge';
import { Progress } from './Progress';
import { navigate } from './router';
import type { RunSummary } from './types';

/** How often the first page is read again, ms. */
const REFRESH_MS = 5000;

/** The list of runs. */
export function RunsList() {
  const [runs, setRuns] = useState<RunSummary[] | null>(null);
  const [older, setOlder] = useState<RunSummary[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const loadFirst = useCallback(async () => {
    try {
      const page = await listRuns();
      setRuns(page.runs);
      setNext((n) => n ?? page.next);
      setError(null);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
  }, []);

  useEffect(() => {
    void loadFirst();
    const timer = setInterval(() => void loadFirst(), REFRESH_MS);
    return () => clearInterval(timer);
  }, [loadFirst]);

  const loadMore = async (): Promise<void> => {
    if (!next) return;
    try {
      const page = await listRuns(next);
      setOlder((o) => [...o, ...page.runs]);
      setNext(page.next);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
  };

  const all = [...(runs ?? []), ...older.filter((o) => !runs?.some((r) => r.id === o.id))];
  return (
    <section className="panel runs-list" aria-label="Runs">
      <h2>Runs</h2>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {runs === null && !error && <p className="muted">Loading…</p>}
      {runs !== null && all.length === 0 && <p className="muted">No runs yet: start one.</p>}
      <ul className="runs" data-testid="runs">
        {all.map((r) => (
          <li key={r.id}>
            <a
              href={`/runs/${r.id}`}
              className="run-item"
              data-testid={`run-item-${r.id}`}
              onClick={(e) => {
                e.preventDefault();
                navigate({ page: 'run', id: r.id, task: null });
              }}
            >
              <span className="run-title">
                <strong>{r.goal ?? 'no goal'}</strong>
                <code className="muted">{r.id}</code>
              </span>
              <PhaseBadge phase={r.phase} outcome={r.outcome} />
              <Progress counts={r.counts} total={r.total} />
              <span className="run-cost" title="cost so far">
                {formatCost(r.cost_usd)}
              </span>
              <time className="muted" dateTime={r.created_at} title={new Date(r.created_at).toLocaleString()}>
                {formatAgo(r.created_at)}
              </time>
            </a>
          </li>
        ))}
      </ul>
      {next && (
        <button type="button" onClick={() => void loadMore()}>
          Older runs
        </button>
      )}
    </section>
  );
}
