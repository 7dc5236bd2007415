// The run's tasks as a list that stays quick at 10,000 tasks: only the rows in view (and a few
// around them) are in the page; the rest is an empty box of the right height. Filters by text,
// state and wave.
import { useEffect, useLayoutEffect, useRef, useState } from 'react';
import { formatDuration } from './format';
import { TASK_STATES, waveLabel, type TaskState, type TaskStatus, type WaveRange } from './types';

/** Height of a row, px (the CSS gives rows this height). */
export const ROW_HEIGHT = 34;

/** Rows drawn above and below the visible ones. */
const OVERSCAN = 8;

/** Props of the task list. */
export interface TaskListProps {
  tasks: TaskStatus[];
  selected: string | null;
  onSelect: (task: string) => void;
  /** Show only these waves' tasks (null: every wave). */
  waves: WaveRange | null;
  onWaves: (waves: WaveRange | null) => void;
}

/** The windowed task list with its filters. */
export function TaskList({ tasks, selected, onSelect, waves, onWaves }: TaskListProps) {
  const [text, setText] = useState('');
  const [state, setState] = useState<TaskState | ''>('');
  const needle = text.trim().toLowerCase();
  const shown = tasks.filter(
    (t) =>
      (state === '' || t.state === state) &&
      (waves === null || (t.wave >= waves.from && t.wave <= waves.to)) &&
      (needle === '' || t.id.toLowerCase().includes(needle) || t.title.toLowerCase().includes(needle)),
  );
  const counts = new Map<TaskState, number>();
  for (const t of tasks) counts.set(t.state, (counts.get(t.state) ?? 0) + 1);
  const allWaves = [...new Set(tasks.map((t) => t.wave))].sort((a, b) => a - b);
  const rangeKey = (r: WaveRange | null): string => (r === null ? '' : `${r.from}-${r.to}`);

  return (
    <div className="task-list">
      <div className="task-filters">
        <input
          type="search"
          placeholder="Filter tasks"
          aria-label="Filter tasks by id or title"
          value={text}
          onChange={(e) => setText(e.target.value)}
          data-testid="task-filter"
        />
        <select
          aria-label="Filter tasks by state"
          value={state}
          onChange={(e) => setState(e.target.value as TaskState | '')}
        >
          <option value="">every state</option>
          {TASK_STATES.map((s) => (
            <option key={s} value={s}>
              {s} ({counts.get(s) ?? 0})
            </option>
          ))}
        </select>
        <select
          aria-label="Filter tasks by wave"
          value={rangeKey(waves)}
          onChange={(e) => {
            const [from, to] = e.target.value.split('-').map(Number);
            onWaves(e.target.value === '' ? null : { from: from!, to: to! });
          }}
          data-testid="wave-filter"
        >
          <option value="">every wave</option>
          {waves && waves.from !== waves.to && <option value={rangeKey(waves)}>{waveLabel(waves)}</option>}
          {allWaves.map((w) => (
            <option key={w} value={`${w}-${w}`}>
              wave {w}
            </option>
          ))}
        </select>
      </div>
      <p className="muted task-count" data-testid="task-count">
        {shown.length === tasks.length ? `${tasks.length} tasks` : `${shown.length} of ${tasks.length} tasks`}
      </p>
      <WindowedRows tasks={shown} selected={selected} onSelect={onSelect} />
    </div>
  );
}

/** The rows: only those in view are rendered. */
function WindowedRows({ tasks, selected, onSelect }: Pick<TaskListProps, 'tasks' | 'selected' | 'onSelect'>) {
  const box = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(400);

  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    const observer = new ResizeObserver(() => setHeight(el.clientHeight));
    observer.observe(el);
    setHeight(el.clientHeight);
    return () => observer.disconnect();
  }, []);

  // A task selected elsewhere (the graph) is scrolled into view.
  const index = selected ? tasks.findIndex((t) => t.id === selected) : -1;
  useEffect(() => {
    const el = box.current;
    if (!el || index < 0) return;
    const top = index * ROW_HEIGHT;
    if (top < el.scrollTop || top + ROW_HEIGHT > el.scrollTop + el.clientHeight)
      el.scrollTop = Math.max(0, top - el.clientHeight / 2);
  }, [index]);

  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(tasks.length, Math.ceil((scrollTop + height) / ROW_HEIGHT) + OVERSCAN);
  const rows = tasks.slice(first, last);

  return (
    <div
      className="task-rows"
      ref={box}
      onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}
      role="listbox"
      aria-label="Tasks"
      data-testid="task-rows"
    >
      <div style={{ height: tasks.length * ROW_HEIGHT, position: 'relative' }}>
        {rows.map((t, i) => (
          <div
            key={t.id}
            role="option"
            aria-selected={t.id === selected}
            aria-posinset={first + i + 1}
            aria-setsize={tasks.length}
            tabIndex={0}
            className={`task-row${t.id === selected ? ' selected' : ''}${t.critical ? ' critical' : ''}`}
            style={{ top: (first + i) * ROW_HEIGHT }}
            onClick={() => onSelect(t.id)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' || e.key === ' ') {
                e.preventDefault();
                onSelect(t.id);
              }
            }}
            data-testid={`task-row-${t.id}`}
            data-state={t.state}
          >
            <span className={`swatch state-${t.state}`} aria-hidden />
            <span className="task-row-id">{t.id}</span>
            <span className="task-row-title">{t.title !== t.id ? t.title : ''}</span>
            <span className="task-row-state">{t.state}</span>
            <span className="task-row-time">{formatDuration(t.duration_ms)}</span>
          </div>
        ))}
      </div>
    </div>
  );
}
