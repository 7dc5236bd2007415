// A bordered box of lines with its own scroll position: the detail pane, the event feed and the
// pager. Lines are wrapped to the box's width here (not by blessed), so scrolling is by whole
// screen lines and only the visible ones are handed to blessed.
import blessed from 'blessed';
import { oneLine } from '../presenter/format.js';
import { cut } from './format.js';
import type { Line, Paint } from './theme.js';

/**
 * Wraps a line at `width` columns, at a space when there is one in the second half of the line;
 * continuation lines are indented two more than the line.
 */
export function wrapLine(line: Line, width: number): Line[] {
  let rest = oneLine(line.text);
  if (width <= 0 || rest.length <= width) return [{ ...line, text: rest }];
  const indent = ' '.repeat(Math.min(/^ */.exec(rest)![0].length + 2, Math.floor(width / 2)));
  const out: Line[] = [];
  let prefix = '';
  while (prefix.length + rest.length > width) {
    const room = width - prefix.length;
    const space = rest.lastIndexOf(' ', room);
    const cutAt = space > 0 && space >= room / 2 ? space : room;
    out.push({ text: prefix + rest.slice(0, cutAt), tone: line.tone });
    rest = rest.slice(cutAt).replace(/^ /, '');
    prefix = indent;
  }
  out.push({ text: prefix + rest, tone: line.tone, ...(line.anchor ? { anchor: true } : {}) });
  return out;
}

/**
 * A scrollable box of lines. With `follow`, it shows the end and stays there as lines are added.
 * Otherwise, until the user scrolls, it keeps the last `anchor` line in view (at the bottom when
 * the lines above it do not fit); `setLines(lines, true)` (another task selected) arms it again.
 */
export class ScrollPane {
  readonly element: blessed.Widgets.BoxElement;
  readonly #paint: Paint;
  readonly #follow: boolean;
  readonly #wrapLines: boolean;
  #lines: Line[] = [];
  #wrapped: Line[] = [];
  #wrappedWidth = -1;
  #top = 0;
  #atEnd = true;
  /** The user scrolled since the last reset: the anchor no longer moves the view. */
  #scrolled = false;
  #label = '';

  /** `follow`: stay at the end as lines come; `wrap: false`: cut long lines instead of wrapping them. */
  constructor(options: {
    parent: blessed.Widgets.Node;
    paint: Paint;
    label: string;
    follow?: boolean;
    wrap?: boolean;
  }) {
    this.#paint = options.paint;
    this.#follow = options.follow ?? false;
    this.#wrapLines = options.wrap ?? true;
    this.#label = options.label;
    this.element = blessed.box({
      parent: options.parent,
      tags: true,
      wrap: false,
      border: { type: 'line' },
      label: ` ${options.label} `,
    });
  }

  /** Replaces the lines; `reset` scrolls back to the top (or, following, to the end). */
  setLines(lines: Line[], reset = false): void {
    this.#lines = lines;
    this.#wrappedWidth = -1;
    if (reset) {
      this.#top = 0;
      this.#atEnd = true;
      this.#scrolled = false;
    }
  }

  /** The pane's title (the scroll position is added to it). */
  setLabel(label: string): void {
    this.#label = label;
  }

  get #inner(): { width: number; height: number } {
    const border = 2;
    return {
      width: Math.max(1, (Number(this.element.width) || 40) - border),
      height: Math.max(1, (Number(this.element.height) || 10) - border),
    };
  }

  #wrap(): Line[] {
    const { width } = this.#inner;
    if (this.#wrappedWidth !== width) {
      this.#wrapped = this.#wrapLines
        ? this.#lines.flatMap((l) => wrapLine(l, width))
        : this.#lines.map((l) => ({ ...l, text: cut(l.text, width) }));
      this.#wrappedWidth = width;
    }
    return this.#wrapped;
  }

  get #maxTop(): number {
    return Math.max(0, this.#wrap().length - this.#inner.height);
  }

  /** Scrolls by `delta` lines (negative: up). */
  scroll(delta: number): void {
    this.#scrolled = true;
    const start = this.#follow && this.#atEnd ? this.#maxTop : this.#top;
    this.#top = Math.max(0, Math.min(this.#maxTop, start + delta));
    this.#atEnd = this.#top >= this.#maxTop;
  }

  /** Scrolls by pages. */
  page(delta: number): void {
    this.scroll(delta * Math.max(1, this.#inner.height - 1));
  }

  /** Scrolls to the top or the end. */
  jump(where: 'start' | 'end'): void {
    this.#scrolled = true;
    this.#top = where === 'start' ? 0 : this.#maxTop;
    this.#atEnd = where === 'end' || this.#maxTop === 0;
  }

  /** Draws the visible lines. */
  render(focused: boolean): void {
    const wrapped = this.#wrap();
    const { height } = this.#inner;
    if (this.#follow && this.#atEnd) this.#top = this.#maxTop;
    else if (!this.#follow && !this.#scrolled) {
      const anchor = wrapped.findLastIndex((l) => l.anchor);
      if (anchor >= 0) this.#top = Math.max(0, anchor - height + 1);
    }
    this.#top = Math.min(this.#top, this.#maxTop);
    const visible = wrapped.slice(this.#top, this.#top + height);
    this.element.setContent(visible.map((l) => this.#paint.line(l)).join('\n'));
    const more = wrapped.length > height ? ` ${this.#top + visible.length}/${wrapped.length}` : '';
    this.element.setLabel(` ${this.#label}${more} `);
    this.element.style.border = { fg: focused ? 'cyan' : 'gray' };
  }
}
