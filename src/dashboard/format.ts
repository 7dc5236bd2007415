// The dashboard's column helpers: a progress bar, and fitting text into a column. Widths count
// UTF-16 code units; every glyph the dashboard uses is one column wide.
import { oneLine } from '../presenter/format.js';

/** A bar of `width` cells, `fraction` (0..1) of them filled: `█████░░░░░`. */
export function progressBar(fraction: number, width: number): string {
  if (width <= 0) return '';
  const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  const filled = Math.round(f * width);
  return '█'.repeat(filled) + '░'.repeat(width - filled);
}

/** Cuts `text` to `width` columns (ending in `…` when cut) and pads it with spaces to exactly `width`. */
export function fit(text: string, width: number): string {
  if (width <= 0) return '';
  const t = oneLine(text);
  if (t.length > width) return width === 1 ? '…' : t.slice(0, width - 1) + '…';
  return t.padEnd(width);
}

/** Like {@link fit}, aligned right. */
export function fitRight(text: string, width: number): string {
  if (width <= 0) return '';
  const t = oneLine(text);
  return t.length > width ? fit(t, width) : t.padStart(width);
}

/** Cuts `text` to at most `width` columns, without padding. */
export function cut(text: string, width: number): string {
  const t = oneLine(text);
  return t.length > width ? (width <= 1 ? '…'.slice(0, width) : t.slice(0, width - 1) + '…') : t;
}
