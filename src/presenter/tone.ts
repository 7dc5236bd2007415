// How a piece of text should look, named by what it means rather than by a colour: the console
// maps tones to ANSI colours (presenter/console.ts), the dashboard to blessed tags (dashboard/theme.ts).

/** The tones: `normal` text, `muted` (dim, gray), `ok` (green), `bad` (red), `warn` (yellow), `active` (cyan), `accent` (magenta). */
export type Tone = 'normal' | 'muted' | 'ok' | 'bad' | 'warn' | 'active' | 'accent';

/** A piece of text with its tone. */
export interface Span {
  text: string;
  tone: Tone;
}
