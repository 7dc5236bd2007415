// Tones of the model as blessed tags. Text from the run (titles, output lines) is escaped, so a
// `{` in a task's output cannot turn into a tag.
import type { Line, Tone } from './model.js';

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
