// The pager: a task's whole log (l) or its diff (d) over the whole screen but the bottom line,
// scrolled with its own keys until q or esc closes it.
import type blessed from 'blessed';
import { ScrollPane } from './scroll-pane.js';
import type { Line, Paint } from './theme.js';

/** The pager's keys, for the bottom line while it is open. */
export const PAGER_KEYS = '↑↓ jk scroll  space/b page  g/G top/end  q/esc close';

/** A full-screen pane of lines, on top of the dashboard until closed. */
export class Pager {
  readonly pane: ScrollPane;

  /** Opens over `screen` with `lines` (replace them with `setLines`, e.g. once a diff is read). */
  constructor(screen: blessed.Widgets.Screen, paint: Paint, label: string, lines: Line[]) {
    this.pane = new ScrollPane({ parent: screen, paint, label });
    const p = this.pane.element;
    p.top = 0;
    p.left = 0;
    p.width = Number(screen.width) || 80;
    p.height = (Number(screen.height) || 24) - 1;
    this.pane.setLines(lines, true);
  }

  /** The pager's box (the dashboard places it on a resize). */
  get element(): blessed.Widgets.BoxElement {
    return this.pane.element;
  }

  /** Replaces the lines and goes back to the top. */
  setLines(lines: Line[]): void {
    this.pane.setLines(lines, true);
  }

  /**
   * Handles a key while the pager is open: scrolls, or closes and destroys it (q, esc).
   * @param ch the character typed; @param name blessed's full key name (`down`, `pageup`, ...)
   * @returns `closed` when the key closed it, else `open`
   */
  key(ch: string | undefined, name: string): 'open' | 'closed' {
    const pane = this.pane;
    if (ch === 'q' || name === 'escape') {
      pane.element.destroy();
      return 'closed';
    }
    if (ch === 'j' || name === 'down') pane.scroll(1);
    else if (ch === 'k' || name === 'up') pane.scroll(-1);
    else if (ch === ' ' || ch === 'f' || name === 'pagedown' || name === 'space') pane.page(1);
    else if (ch === 'b' || name === 'pageup') pane.page(-1);
    else if (ch === 'g' || name === 'home') pane.jump('start');
    else if (ch === 'G' || name === 'end') pane.jump('end');
    return 'open';
  }

  /** Draws its visible lines (before the screen renders). */
  render(): void {
    this.pane.render(true);
  }

  /** Removes it from the screen (another pager replaces it). */
  destroy(): void {
    this.pane.element.destroy();
  }
}
