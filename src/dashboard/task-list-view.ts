// The task list, grouped by wave: one row per task (state glyph, critical-path mark, id, title,
// role, attempt, duration, cost) under a heading per wave. Virtualized: the box holds only the
// rows that fit, so a plan of 10,000 tasks costs what a plan of 20 does per frame. The cursor is
// kept by task id, so it stays on its task when a filter changes the lines.
import blessed from 'blessed';
import { formatCost, formatDuration } from '../presenter/format.js';
import { fit, fitRight } from './format.js';
import { describeFilter, type TaskFilter } from './filter.js';
import type { RunModel } from './model.js';
import { CRITICAL_MARK, type Paint } from './theme.js';
import type { TaskLine, TaskRow } from './view-models.js';

/** Column widths of a task row for an inner width `w`. */
export interface Columns {
  id: number;
  title: number;
  role: number;
  attempt: number;
  duration: number;
  cost: number;
}

/**
 * Lays out the row columns: id, then what fits of title, role, attempt, duration and cost (the
 * cost column only in a plan with agent tasks; it goes before the role when space is short).
 */
export function columnsFor(width: number, maxId: number, hasRoles: boolean, hasAgents = true): Columns {
  const inner = Math.max(10, width - 2); // glyph and critical mark
  const attempt = inner >= 30 ? 4 : 0;
  const duration = inner >= 40 ? 7 : 0;
  const cost = hasAgents && inner >= 40 ? 7 : 0;
  const role = hasRoles && inner >= 64 ? 11 : 0;
  const id = Math.min(Math.max(4, maxId) + 1, 26, Math.max(6, inner - attempt - duration - cost - role - 8));
  const title = Math.max(0, inner - id - attempt - duration - cost - role);
  return { id, title, role, attempt, duration, cost };
}

/** One task row as plain text of exactly `width` columns (`selected` rows are drawn inverse by the caller). */
export function rowText(r: TaskRow, c: Columns): { glyph: string; mark: string; rest: string } {
  // A running agent shows what it is doing instead of its title (which the detail pane shows).
  const title = r.activity
    ? `→ ${r.activity}`
    : r.title === r.id
      ? r.note && r.state !== 'succeeded'
        ? r.note
        : ''
      : r.title;
  const rest =
    fit(r.id, c.id) +
    fit(title, c.title) +
    (c.role ? fit(r.role ? ` ${r.role}` : '', c.role) : '') +
    (c.attempt ? fitRight(r.attempts > 0 ? `#${r.attempts}` : '', c.attempt) : '') +
    (c.duration ? fitRight(formatDuration(r.duration_ms), c.duration) : '') +
    (c.cost ? fitRight(formatCost(r.cost_usd), c.cost) : '');
  return { glyph: r.glyph, mark: r.critical ? CRITICAL_MARK : ' ', rest };
}

/** The task list pane. */
export class TaskListPane {
  readonly element: blessed.Widgets.BoxElement;
  readonly #model: RunModel;
  readonly #paint: Paint;
  #filter: TaskFilter | null = null;
  #lines: TaskLine[] = [];
  #taskCount = 0;
  #linesVersion = -1;
  #selectedId: string | null = null;
  #cursor = 0;
  #top = 0;

  constructor(parent: blessed.Widgets.Screen, model: RunModel, paint: Paint) {
    this.#model = model;
    this.#paint = paint;
    this.element = blessed.box({ parent, tags: true, border: { type: 'line' }, label: ' tasks ', wrap: false });
  }

  /** The selected task's id, if any. */
  get selected(): string | null {
    this.#refreshLines();
    return this.#selectedId;
  }

  /** The filter in force (null: every task). */
  get filter(): TaskFilter | null {
    return this.#filter;
  }

  /** Shows only tasks that pass `filter` (null: all). The cursor stays on its task if it still shows. */
  setFilter(filter: TaskFilter | null): void {
    this.#filter = filter;
    this.#linesVersion = -1;
    this.#refreshLines();
  }

  /** Number of lines (wave headings and tasks) with the current filter. */
  get lineCount(): number {
    this.#refreshLines();
    return this.#lines.length;
  }

  /** Moves the cursor by `delta` tasks (skipping wave headings). */
  move(delta: number): void {
    this.#refreshLines();
    if (this.#lines.length === 0) return;
    let i = this.#cursor;
    const step = Math.sign(delta);
    let left = Math.abs(delta);
    while (left > 0) {
      let j = i + step;
      while (j >= 0 && j < this.#lines.length && this.#lines[j]!.kind !== 'task') j += step;
      if (j < 0 || j >= this.#lines.length) break;
      i = j;
      left--;
    }
    this.#select(i);
  }

  /** Moves the cursor to the first (`'start'`) or last (`'end'`) task. */
  jump(where: 'start' | 'end'): void {
    this.#refreshLines();
    const isTask = (l: TaskLine): boolean => l.kind === 'task';
    const i = where === 'start' ? this.#lines.findIndex(isTask) : this.#lines.findLastIndex(isTask);
    if (i >= 0) this.#select(i);
  }

  /** Selects a task by id (if it shows). */
  selectTask(id: string): boolean {
    this.#refreshLines();
    const i = this.#lines.findIndex((l) => l.kind === 'task' && l.id === id);
    if (i < 0) return false;
    this.#select(i);
    return true;
  }

  /** Rows that fit in the box. */
  get pageSize(): number {
    return Math.max(1, (Number(this.element.height) || 3) - 2);
  }

  #select(i: number): void {
    this.#cursor = Math.max(0, Math.min(i, this.#lines.length - 1));
    const line = this.#lines[this.#cursor];
    this.#selectedId = line?.kind === 'task' ? line.id : null;
  }

  /** Rebuilds the lines when the filter or (with a filter) a task's state changed. */
  #refreshLines(): void {
    const version = this.#filter ? this.#model.statesVersion : 0;
    if (version === this.#linesVersion && this.#lines.length > 0) return;
    this.#linesVersion = version;
    this.#lines = this.#model.lines(this.#filter);
    this.#taskCount = this.#lines.reduce((n, l) => n + (l.kind === 'task' ? 1 : 0), 0);
    const keep =
      this.#selectedId === null ? -1 : this.#lines.findIndex((l) => l.kind === 'task' && l.id === this.#selectedId);
    if (keep >= 0) this.#cursor = keep;
    else {
      this.#cursor = Math.min(this.#cursor, Math.max(0, this.#lines.length - 1));
      if (this.#lines[this.#cursor]?.kind !== 'task') {
        const next = this.#lines.findIndex((l, j) => j >= this.#cursor && l.kind === 'task');
        this.#cursor = next >= 0 ? next : this.#lines.findLastIndex((l) => l.kind === 'task');
        this.#cursor = Math.max(0, this.#cursor);
      }
      const line = this.#lines[this.#cursor];
      this.#selectedId = line?.kind === 'task' ? line.id : null;
    }
  }

  /** Draws the visible rows at time `now`. */
  render(now: number, focused: boolean): void {
    this.#refreshLines();
    const m = this.#model;
    const height = this.pageSize;
    const width = Math.max(4, (Number(this.element.width) || 40) - 2);
    // Keep the cursor in view, with its wave heading when possible.
    if (this.#cursor < this.#top + 1) this.#top = Math.max(0, this.#cursor - 1);
    if (this.#cursor >= this.#top + height) this.#top = this.#cursor - height + 1;
    this.#top = Math.max(0, Math.min(this.#top, Math.max(0, this.#lines.length - height)));
    const cols = columnsFor(width, m.plan.maxIdLength, m.plan.hasRoles, m.plan.hasAgents);
    const p = this.#paint;
    const out: string[] = [];
    for (let i = this.#top; i < Math.min(this.#lines.length, this.#top + height); i++) {
      const line = this.#lines[i]!;
      if (line.kind === 'wave') {
        const w = m.wave(line.wave);
        const label = `─ wave ${line.wave} · ${w.done}/${w.total} done${w.running ? ` · ${w.running} running` : ''}${w.failed ? ` · ${w.failed} failed` : ''} `;
        out.push(p('muted', fit(label + '─'.repeat(Math.max(0, width - label.length)), width)));
        continue;
      }
      const row = m.row(line.id, now);
      const t = rowText(row, cols);
      const body = `${t.glyph}${t.mark}${t.rest}`;
      if (i === this.#cursor)
        out.push(
          `{${focused ? 'inverse' : 'underline'}}${p(row.tone, fit(body, width))}{/${focused ? 'inverse' : 'underline'}}`,
        );
      else out.push(p(row.tone, t.glyph) + p('warn', t.mark) + p(row.state === 'pending' ? 'muted' : 'normal', t.rest));
    }
    if (this.#lines.length === 0)
      out.push(p('muted', this.#filter ? 'no task matches the filter (Esc clears it)' : 'no tasks yet'));
    this.element.setContent(out.join('\n'));
    const pos =
      this.#lines.length > height
        ? ` ${Math.round((100 * this.#top) / Math.max(1, this.#lines.length - height))}%`
        : '';
    this.element.setLabel(
      ` tasks${this.#filter ? ` · ${describeFilter(this.#filter)}: ${this.#taskCount} of ${m.plan.tasks.length}` : ''}${pos} `,
    );
  }
}
