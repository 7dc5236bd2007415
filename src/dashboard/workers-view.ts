// The workers panel: each worker of the current coordinator, its state, the attempt it runs and
// the age of its heartbeat (red once older than the run's `liveness.stale_after`).
import blessed from 'blessed';
import { formatDuration } from '../presenter/format.js';
import { fit, fitRight } from './format.js';
import type { Paint } from './theme.js';
import type { WorkerRow } from './view-models.js';

/** One worker's line, `width` columns: `w1 busy     build#2      0.4s`. */
export function workerLine(w: WorkerRow, width: number): string {
  const age = w.heartbeatAgeMs === null || w.state === 'exited' ? '' : formatDuration(w.heartbeatAgeMs);
  const head = fit(w.id, 4) + fit(w.state, 9);
  const ageCol = fitRight(age, 7);
  const task = w.task ? `${w.task}#${w.attempt}` : '';
  return head + fit(task, Math.max(0, width - head.length - ageCol.length)) + ageCol;
}

/** The workers box. */
export class WorkersPane {
  readonly element: blessed.Widgets.BoxElement;
  readonly #paint: Paint;

  constructor(parent: blessed.Widgets.Screen, paint: Paint) {
    this.#paint = paint;
    this.element = blessed.box({ parent, tags: true, wrap: false, border: { type: 'line' }, label: ' workers ' });
  }

  /** Draws one line per worker (what does not fit is counted as `+N more`). */
  update(rows: WorkerRow[]): void {
    const width = Math.max(1, (Number(this.element.width) || 30) - 2);
    const height = Math.max(1, (Number(this.element.height) || 5) - 2);
    const busy = rows.filter((r) => r.state === 'busy').length;
    const lines = rows.length
      ? rows.map((r) => this.#paint(r.tone, workerLine(r, width)))
      : [this.#paint('muted', 'no workers')];
    if (lines.length > height)
      lines.splice(height - 1, lines.length, this.#paint('muted', `+${rows.length - height + 1} more`));
    this.element.setContent(lines.join('\n'));
    const alive = rows.filter((r) => r.state !== 'exited').length;
    this.element.setLabel(alive ? ` workers · ${busy}/${alive} busy ` : ' workers ');
    this.element.style.border = { fg: 'gray' };
  }
}
