// How the dashboard looks: a line of text with its tone, the glyph and tone of each task state,
// and the tones as blessed tags. Text from the run (titles, output lines) is escaped, so a `{` in
// a task's output cannot turn into a tag.
import type { TaskStateName } from '../protocol/state.js';
import type { Span, Tone } from '../presenter/tone.js';

export type { Tone };

/** A line of text with its tone. */
export interface Line extends Span {
  /** A pane keeps this line in view until the user scrolls it: the newest output of the attempt in flight. */
  anchor?: boolean;
}

/** Glyph and tone of each task state. */
export const STATE_STYLE: Record<TaskStateName, { glyph: string; tone: Tone }> = {
  pending: { glyph: '·', tone: 'muted' },
  ready: { glyph: '○', tone: 'normal' },
  running: { glyph: '▶', tone: 'active' },
  verifying: { glyph: '◇', tone: 'active' },
  succeeded: { glyph: '✓', tone: 'ok' },
  failed: { glyph: '✗', tone: 'bad' },
  skipped: { glyph: '–', tone: 'warn' },
  cancelled: { glyph: '⊘', tone: 'warn' },
};

/** Marks a task on the plan's critical path in the task list. */
export const CRITICAL_MARK = '*';

const TAGS: Record<Tone, string | null> = {
  normal: null,
  muted: 'gray-fg',
  ok: 'green-fg',
  bad: 'red-fg',
  warn: 'yellow-fg',
  active: 'cyan-fg',
  accent: 'magenta-fg',
};

/** Escapes blessed tag braces in text from the run. */
export function escapeTags(text: string): string {
  return text.replace(/[{}]/g, (c) => (c === '{' ? '{open}' : '{close}'));
}

/** Creates the painter of one screen: with `colors` false (NO_COLOR), text is only escaped. */
export function painter(colors: boolean): Paint {
  const paint = (tone: Tone, text: string): string => {
    const tag = colors ? TAGS[tone] : null;
    const t = escapeTags(text);
    return tag ? `{${tag}}${t}{/${tag}}` : t;
  };
  paint.line = (l: Line): string => paint(l.tone, l.text);
  paint.bold = (text: string): string => `{bold}${escapeTags(text)}{/bold}`;
  return paint;
}

/** Paints text in a tone (escaped); `line` paints a model line; `bold` makes text bold. */
export interface Paint {
  (tone: Tone, text: string): string;
  line(l: Line): string;
  bold(text: string): string;
}
