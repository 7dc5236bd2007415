// The dashboard's bottom line: a y/n question, the pager's keys, the state of the last control
// request, a message (kept 15 s), or the help line, in that order of precedence; empty while the
// filter prompt is there.
import blessed from 'blessed';
import { describeRequest } from './detail.js';
import { helpLine } from './keys.js';
import { cut, fit } from './format.js';
import type { RunModel } from './model.js';
import { PAGER_KEYS } from './pager.js';
import type { Paint, Tone } from './theme.js';

/** How long a message stays on the bottom line, ms. */
const MESSAGE_MS = 15_000;

/** What the dashboard is doing, as far as the bottom line cares. */
export type BottomMode =
  /** The panes have the keys; `attached`: under `swarm run` with the run live (q leaves it going). */
  | { kind: 'normal'; attached: boolean }
  | { kind: 'confirm'; question: string }
  | { kind: 'pager' }
  | { kind: 'prompt' };

/** The bottom line and the message it may show. */
export class BottomLine {
  readonly element: blessed.Widgets.BoxElement;
  readonly #paint: Paint;
  #message: { text: string; tone: Tone; at: number } | undefined;
  /** The last request's status as last drawn, and since when (ms since the epoch). */
  #request: { id: string; status: string; at: number } = { id: '', status: '', at: 0 };

  constructor(parent: blessed.Widgets.Screen, paint: Paint) {
    this.#paint = paint;
    this.element = blessed.box({ parent, height: 1, left: 0, tags: true, wrap: false });
  }

  /** Shows a message from `now` (ms since the epoch) for 15 s, unless a request's change comes later. */
  say(text: string, tone: Tone, now = Date.now()): void {
    this.#message = { text, tone, at: now };
  }

  /** Sets the line's content for `now` (ms since the epoch), `width` columns wide. */
  update(model: RunModel, mode: BottomMode, now: number, width: number): void {
    this.element.setContent(this.#text(model, mode, now, width));
  }

  #text(model: RunModel, mode: BottomMode, now: number, width: number): string {
    const p = this.#paint;
    if (mode.kind === 'confirm') return p('warn', fit(mode.question, width));
    if (mode.kind === 'pager') return p('muted', fit(PAGER_KEYS, width));
    if (mode.kind === 'prompt') return '';
    const req = model.lastRequest();
    if (req && (req.id !== this.#request.id || req.status !== this.#request.status))
      this.#request = { id: req.id, status: req.status, at: now };
    if (req && this.#request.at >= (this.#message?.at ?? 0)) {
      // A request's line stays while it is pending, and for a while after each change.
      const fresh = req.status === 'pending' || now - this.#request.at < MESSAGE_MS;
      if (fresh)
        return p(
          req.status === 'rejected' ? 'bad' : req.status === 'pending' ? 'warn' : 'ok',
          cut(describeRequest(req, model.liveness), width),
        );
    }
    if (this.#message && now - this.#message.at < MESSAGE_MS)
      return p(this.#message.tone, cut(this.#message.text, width));
    const attached = mode.attached ? '  (q: the run goes on)' : '';
    return p('muted', cut(helpLine(width - attached.length) + attached, width));
  }
}
