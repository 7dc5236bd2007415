// The header: run id and goal; phase, elapsed time, done/total with a progress bar; the
// coordinator, cost against the budget and the integration branch (or, for a run nobody is
// running, the command that continues it).
import { totalTokens } from '../protocol/usage.js';
import path from 'node:path';
import blessed from 'blessed';
import { formatCost, formatDuration, formatTokens } from '../presenter/format.js';
import { cut, progressBar } from './format.js';
import { STATE_STYLE, type Paint, type Tone } from './theme.js';
import type { HeaderView } from './view-models.js';

/** Rows the header takes. */
export const HEADER_HEIGHT = 3;

/** A run phase (and outcome) as a word and a tone. */
function phaseOf(h: HeaderView): { text: string; tone: Tone } {
  if (h.phase === 'finished')
    return { text: `finished: ${h.outcome ?? '?'}`, tone: h.outcome === 'succeeded' ? 'ok' : 'bad' };
  if (h.liveness === 'dead' || h.liveness === 'unknown') return { text: `${h.phase} (no coordinator)`, tone: 'bad' };
  return { text: h.phase, tone: h.phase === 'running' ? 'active' : h.phase === 'starting' ? 'muted' : 'warn' };
}

/** The cost part: `cost $1.23 / $10.00 · 1.2M / 5.0M tokens`; `cost —` when nothing was reported. */
function costOf(h: HeaderView): { text: string; tone: Tone } {
  const u = h.usage;
  const b = h.budget;
  const parts: string[] = [];
  parts.push(
    `cost ${u?.cost_usd != null ? formatCost(u.cost_usd) : '—'}${b?.max_cost_usd != null ? ` / ${formatCost(b.max_cost_usd)}` : ''}`,
  );
  if ((u && totalTokens(u) > 0) || b?.max_tokens != null)
    parts.push(
      `${formatTokens(u ? totalTokens(u) : 0)}${b?.max_tokens != null ? ` / ${formatTokens(b.max_tokens)}` : ''} tokens`,
    );
  if (b?.exhausted) parts.push('BUDGET EXHAUSTED');
  else if (h.budgetWarning !== null) parts.push(`${h.budgetWarning}% of budget`);
  return { text: parts.join(' · '), tone: b?.exhausted ? 'bad' : h.budgetWarning !== null ? 'warn' : 'normal' };
}

/** `command` with the run directory written relative to `cwd` when it is under it (shorter to read and to copy). */
export function relativeCommand(command: string, dir: string, cwd: string): string {
  return dir.startsWith(cwd + path.sep) ? command.replace(dir, path.relative(cwd, dir)) : command;
}

/** The header's three lines for a width, painted; `cwd` shortens the resume command. Pure; exported for the tests. */
export function headerLines(h: HeaderView, width: number, paint: Paint, cwd = '/'): string[] {
  const sep = paint('muted', ' · ');
  // Line 1: who.
  const title = `run ${h.runId}${h.goal ? ` · ${h.goal}` : ''}`;
  const line1 = `${paint.bold('swarm')} ${paint('normal', cut(title, Math.max(0, width - 6)))}`;

  // Line 2: how far.
  const phase = phaseOf(h);
  const pct = h.total ? Math.floor((100 * h.done) / h.total) : 0;
  const shownStates = (
    ['succeeded', 'failed', 'running', 'verifying', 'ready', 'skipped', 'cancelled'] as const
  ).filter((s) => h.counts[s] > 0);
  const countsPlain = shownStates.map((s) => `${STATE_STYLE[s].glyph}${h.counts[s]}`).join(' ');
  const elapsed = formatDuration(h.elapsedMs) || '—';
  const head = `${phase.text} · ${elapsed} · ${h.done}/${h.total} done `;
  const tail = `${pct}%`;
  let room = width - head.length - tail.length;
  const showCounts = countsPlain.length > 0 && room - (countsPlain.length + 2) >= 12;
  if (showCounts) room -= countsPlain.length + 2;
  const bar = room >= 6 ? progressBar(h.total ? h.done / h.total : 0, Math.min(40, room - 1)) + ' ' : '';
  const counts = shownStates.map((s) => paint(STATE_STYLE[s].tone, `${STATE_STYLE[s].glyph}${h.counts[s]}`)).join(' ');
  const line2 =
    paint(phase.tone, phase.text) +
    sep +
    paint('normal', elapsed) +
    sep +
    paint('normal', `${h.done}/${h.total} done `) +
    (bar ? paint('ok', bar) : '') +
    paint('normal', tail) +
    (showCounts ? `  ${counts}` : '');

  // Line 3: who runs it, what it cost, where the work goes; or what went wrong.
  let line3: string;
  if (h.error) line3 = paint('bad', cut(h.error, width));
  else if (h.resumeCommand) {
    const command = relativeCommand(h.resumeCommand, h.dir, cwd);
    const verb = h.liveness === 'none' ? 'start it' : 'continue';
    const full = `${h.coordinator} · ${verb} with: ${command}`;
    const who = {
      none: 'no coordinator',
      stopped: 'coordinator exited',
      unknown: 'coordinator silent',
      dead: 'coordinator DEAD',
      alive: 'coordinator alive',
    }[h.liveness];
    const short = `${who} · ${verb}: ${command}`;
    line3 = paint(h.liveness === 'none' ? 'warn' : 'bad', cut(full.length <= width ? full : short, width));
  } else {
    const cost = costOf(h);
    const branch = h.branch
      ? `branch ${h.branch}${h.tip ? ` @${h.tip.slice(0, 8)}` : ''}${h.verified ? ` ${h.verified}` : ''}`
      : 'branch —';
    const critical = h.criticalTotal ? `critical path ${h.criticalDone}/${h.criticalTotal}` : '';
    const parts: [Tone, string][] = [
      [h.liveness === 'alive' ? 'muted' : 'normal', h.coordinator],
      [cost.tone, cost.text],
      ['normal', branch],
      ['muted', critical],
    ];
    let used = 0;
    const shown: string[] = [];
    for (const [tone, text] of parts) {
      if (!text) continue;
      const need = (shown.length ? 3 : 0) + text.length;
      if (used + need > width) {
        if (shown.length === 0) shown.push(paint(tone, cut(text, width)));
        break;
      }
      shown.push(paint(tone, text));
      used += need;
    }
    line3 = shown.join(sep);
  }
  return [line1, line2, line3];
}

/** The header box at the top of the screen ({@link HEADER_HEIGHT} rows). */
export class HeaderPane {
  readonly element: blessed.Widgets.BoxElement;
  readonly #paint: Paint;

  constructor(parent: blessed.Widgets.Screen, paint: Paint) {
    this.#paint = paint;
    this.element = blessed.box({
      parent,
      top: 0,
      left: 0,
      width: '100%',
      height: HEADER_HEIGHT,
      tags: true,
      wrap: false,
    });
  }

  /** Draws the header for `h` at the box's width. */
  update(h: HeaderView): void {
    const width = Number(this.element.width) || 80;
    this.element.setContent(headerLines(h, width, this.#paint, process.cwd()).join('\n'));
  }
}
