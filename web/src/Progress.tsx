// A bar of a run's tasks by state: one coloured segment per state, with "done / total" beside it.
import { doneCount } from './format';
import { TASK_STATES, type TaskState } from './types';

/** The bar; `counts` are tasks by state, `total` all of them. */
export function Progress({ counts, total }: { counts: Record<TaskState, number>; total: number }) {
  const done = doneCount(counts);
  return (
    <div className="progress" title={TASK_STATES.map((s) => `${s}: ${counts[s] ?? 0}`).join(', ')}>
      <div className="progress-bar" role="progressbar" aria-valuemin={0} aria-valuemax={total} aria-valuenow={done}>
        {total > 0 &&
          TASK_STATES.filter((s) => (counts[s] ?? 0) > 0).map((s) => (
            <span key={s} className={`seg state-${s}`} style={{ width: `${((counts[s] ?? 0) / total) * 100}%` }} />
          ))}
      </div>
      <span className="progress-text" data-testid="progress-text">
        {done} / {total}
      </span>
    </div>
  );
}
