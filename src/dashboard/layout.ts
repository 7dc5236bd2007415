// Where each pane of the dashboard goes for a terminal size: the header on top, the task list and
// the detail side by side, the feed and the workers below them (left out on a short terminal),
// the bottom line last.
import type blessed from 'blessed';
import { HEADER_HEIGHT } from './header-view.js';

/** A pane's place on the screen, in cells. */
export interface Rect {
  top: number;
  left: number;
  width: number;
  height: number;
}

/** The place of each pane; `feed` and `workers` have height 0 (hidden) below 18 rows. */
export interface Layout {
  tasks: Rect;
  detail: Rect;
  feed: Rect;
  workers: Rect;
  bottom: Rect;
  /** The whole screen (the help box and the pager). */
  screen: Rect;
}

/** The layout of a terminal of `rows` × `cols` cells. */
export function layoutFor(rows: number, cols: number): Layout {
  const bottom = rows >= 40 ? 12 : rows >= 30 ? 8 : rows >= 18 ? 6 : 0;
  const mid = Math.max(3, rows - HEADER_HEIGHT - 1 - bottom);
  const listW = Math.floor(cols * (cols >= 120 ? 0.5 : 0.55));
  const workersW = Math.min(40, Math.max(26, Math.floor(cols * 0.35)));
  const rect = (top: number, left: number, width: number, height: number): Rect => ({ top, left, width, height });
  return {
    tasks: rect(HEADER_HEIGHT, 0, listW, mid),
    detail: rect(HEADER_HEIGHT, listW, cols - listW, mid),
    feed: rect(HEADER_HEIGHT + mid, 0, cols - workersW, bottom),
    workers: rect(HEADER_HEIGHT + mid, cols - workersW, workersW, bottom),
    bottom: rect(rows - 1, 0, cols, 1),
    screen: rect(0, 0, cols, rows),
  };
}

/** Puts a box at its place (at least one cell each way: a hidden pane keeps a size). */
export function place(el: blessed.Widgets.BoxElement, r: Rect): void {
  el.top = r.top;
  el.left = r.left;
  el.width = Math.max(1, r.width);
  el.height = Math.max(1, r.height);
}
