// The detail pane: the selected task's detail (detail.ts) in a scroll pane. The task's attempt
// files are read when another task is selected or its state changed, and twice a second while it
// runs; its running attempt's directory is watched (its output changes there), and only that one.
import type blessed from 'blessed';
import type { DirectoryWatcher } from '../util/watch.js';
import type { TaskFiles } from './facts.js';
import { ScrollPane } from './scroll-pane.js';
import type { RunSource } from './source.js';
import type { Paint } from './theme.js';

/** A running task's detail is re-read at most this often, ms. */
const LIVE_DETAIL_MS = 500;

/** The detail pane of one dashboard. */
export class DetailPane {
  readonly pane: ScrollPane;
  readonly #source: RunSource;
  readonly #watcher: DirectoryWatcher;
  #task: string | null = null;
  #files: TaskFiles | undefined;
  /** The task and its state when its files were read: another stamp means read again. */
  #stamp = '';
  #readAt = 0;
  #linesKey = '';
  #watchedAttempt: string | undefined;

  /** @param watcher the dashboard's watcher, which the pane adds the running attempt's directory to */
  constructor(parent: blessed.Widgets.Screen, paint: Paint, source: RunSource, watcher: DirectoryWatcher) {
    this.pane = new ScrollPane({ parent, paint, label: 'detail' });
    this.#source = source;
    this.#watcher = watcher;
  }

  /** Shows task `selected` (null: none) at `now` (ms since the epoch), reading its files if they may have changed. */
  update(selected: string | null, now: number): void {
    const model = this.#source.model;
    const id = selected;
    const changedTask = id !== this.#task;
    const snapshot = id ? model.state.tasks[id] : undefined;
    const stamp = `${id}:${JSON.stringify(snapshot)}`;
    const running = snapshot?.state === 'running';
    if (id && (changedTask || stamp !== this.#stamp || (running && now - this.#readAt >= LIVE_DETAIL_MS))) {
      this.#files = this.#source.readTask(id);
      this.#stamp = stamp;
      this.#readAt = now;
      this.#watchAttempt(id);
    }
    this.#task = id;
    if (!id) {
      this.pane.setLines([{ text: 'no task selected', tone: 'muted' }], changedTask);
      return;
    }
    const lines = model.detail(id, this.#files, now);
    const key = JSON.stringify(lines);
    if (key !== this.#linesKey || changedTask) this.pane.setLines(lines, changedTask);
    this.#linesKey = key;
    this.pane.setLabel(`detail · ${id}`);
  }

  /** Watches the selected task's attempt directory (its output changes there), and only that one. */
  #watchAttempt(id: string): void {
    const source = this.#source;
    const dir = source.model.state.tasks[id]?.state === 'running' ? source.attemptDir(id) : undefined;
    if (dir === this.#watchedAttempt) return;
    if (this.#watchedAttempt) this.#watcher.remove(this.#watchedAttempt);
    this.#watchedAttempt = dir;
    if (dir) this.#watcher.add(dir);
  }
}
