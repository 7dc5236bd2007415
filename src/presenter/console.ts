// The terminal presenter: turns events into lines on stdout, worded by event-text.ts and painted
// with ANSI colours when the output is a terminal. Core code prints nothing itself.
import type { SwarmEvent } from '../protocol/events.js';
import type { RunState } from '../protocol/state.js';
import { eventLine } from './event-text.js';
import type { Span, Tone } from './tone.js';

/** Where presenter output goes, and whether it may use colour. */
export interface Output {
  write(text: string): void;
  color: boolean;
}

/** The SGR code of each tone (null: not painted). */
const ANSI: Record<Tone, number | null> = {
  normal: null,
  muted: 2,
  ok: 32,
  bad: 31,
  warn: 33,
  active: 36,
  accent: 35,
};

const paint = (on: boolean, code: number, text: string): string => (on ? `\u001b[${code}m${text}\u001b[0m` : text);

/** Spans as one string, each painted in its tone's colour when `color` is on. */
export function renderSpans(spans: readonly Span[], color: boolean): string {
  let out = '';
  for (const s of spans) {
    const code = ANSI[s.tone];
    out += code === null ? s.text : paint(color, code, s.text);
  }
  return out;
}

/** Prints one line per interesting event: starts, finishes, retries, skips, control, budget, notices, the end. */
export class ConsolePresenter {
  readonly #out: Output;
  readonly #started: number;
  readonly #session: boolean;

  /**
   * @param startedAt when the clock of the last line starts (ms since epoch): the run's start, or
   *   this session's (the default)
   * @param session the clock is this session's, not the run's (a resume): the last line says so
   */
  constructor(out: Output, startedAt = Date.now(), session = false) {
    this.#out = out;
    this.#started = startedAt;
    this.#session = session;
  }

  /** A line that is not an event (where the run is, what Ctrl-C does), printed as a `notice` event is. */
  notice(text: string): void {
    this.#line([{ text, tone: 'muted' }]);
  }

  /** Event listener: prints the event if it is one a person wants to see scroll by. */
  onEvent = (e: SwarmEvent, state: RunState): void => {
    const line = eventLine(e, {
      to: 'console',
      state,
      elapsedMs: Date.now() - this.#started,
      session: this.#session,
    });
    if (line) this.#line(line.spans);
  };

  #line(spans: readonly Span[]): void {
    this.#out.write(renderSpans(spans, this.#out.color) + '\n');
  }
}
