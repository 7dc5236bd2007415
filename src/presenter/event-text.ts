// The wording of run events, one module for every reader that shows them: the console of `swarm
// run` and `swarm status --follow` (the events a person wants to see scroll by, task lines led by
// the `[done/total]` progress) and the dashboard's event feed (every event, one tone per line).
// Each event becomes a few spans of text with their tones: the console paints each span, the feed
// joins them and colours the line. Where the two say an event differently (the console writes a
// log to read later, the feed sits next to a task list that already shows each task), the
// audience picks the wording; where they agree, the spans are the same.
import prettyMs from 'pretty-ms';
import type { SwarmEvent } from '../protocol/events.js';
import type { IntegrationCheckKind } from '../protocol/schemas.js';
import { unreachable } from '../util/unreachable.js';
import type { RunState } from '../protocol/state.js';
import { clockTime, formatCost, formatDuration, oneLine } from './format.js';
import type { Span, Tone } from './tone.js';

/** Who reads the line, with what it needs to word it. */
export type Audience =
  /** The dashboard's feed; `state` (after the event) gives a finished task's duration, when known. */
  | { to: 'feed'; state?: RunState | undefined }
  | {
      to: 'console';
      /** The state after the event: progress counts, a task's last attempt, the caps and the spend. */
      state: RunState;
      /** How long the run (or this session) has lasted when the event is shown, ms: the last line says it. */
      elapsedMs: number;
      /** The elapsed time is this session's, not the run's (a resume): the last line says so. */
      session: boolean;
    };

/** An event in words: its spans, and the tone of the line as a whole (the feed colours whole lines). */
export interface EventLine {
  spans: Span[];
  tone: Tone;
}

/**
 * The feed's line of an event: its text as one string, and its tone. Every event has one (an event
 * type this code does not know shows its type).
 * @param state the state after the event (optional: without it a finished task's duration is left out)
 */
export function describeEvent(e: SwarmEvent, state?: RunState): Span {
  const line = eventLine(e, { to: 'feed', state }) ?? { spans: [span(e.type, 'muted')], tone: 'muted' };
  return { text: line.spans.map((s) => s.text).join(''), tone: line.tone };
}

/**
 * An event in words for an audience; null when that audience does not show it (the console shows
 * task progress, failures, budget, control, notices and the end; the feed shows everything).
 */
export function eventLine(e: SwarmEvent, audience: Audience): EventLine | null {
  const c = audience.to === 'console' ? audience : null;
  switch (e.type) {
    case 'run.started':
      return c ? null : line('accent', span(`run started${e.goal ? `: ${e.goal}` : ''}`));
    case 'plan.created':
      return c ? null : line('muted', span(`plan: ${e.tasks.length} tasks in ${e.waves} waves`));
    case 'run.resumed':
      return c
        ? null
        : line('accent', span(`run resumed by pid ${e.pid} on ${e.host}${e.retry_failed ? ' (--retry-failed)' : ''}`));
    case 'task.ready':
      if (c)
        return e.not_before
          ? taskLine(
              c,
              '↻',
              'warn',
              ` ${e.task} retries in ${prettyMs(Math.max(0, Date.parse(e.not_before) - Date.parse(e.at)))}`,
            )
          : null;
      return e.not_before
        ? line('warn', span(`↻ ${e.task} retries at ${clockTime(e.not_before)}`))
        : line('muted', span(`○ ${e.task} ready`));
    case 'attempt.assigned':
      return c
        ? taskLine(c, '▶', 'active', ` ${e.task}${e.attempt > 1 ? ` (attempt ${e.attempt})` : ''} on ${e.worker}`)
        : line('active', span(`▶ ${e.task} #${e.attempt} → ${e.worker}`));
    case 'attempt.started':
      return c ? null : line('muted', span(`  ${e.task} #${e.attempt} started on ${e.worker}`));
    case 'attempt.finished': {
      if (c)
        return e.outcome === 'succeeded'
          ? null
          : taskLine(c, '✗', 'bad', ` ${e.task} attempt ${e.attempt}: ${e.summary}`);
      const took = e.duration_ms === null ? '' : ` · ${formatDuration(e.duration_ms)}`;
      if (e.outcome === 'succeeded') return line('muted', span(`  ${e.task} #${e.attempt}: ${e.summary}${took}`));
      return line(
        e.outcome === 'failed' ? 'bad' : 'warn',
        span(`✗ ${e.task} #${e.attempt} ${e.outcome}: ${e.summary}${took}`),
      );
    }
    case 'merge.succeeded':
      return c
        ? null
        : line(
            'ok',
            span(
              `⇢ ${e.task} #${e.attempt} merged (${e.files.length} file${e.files.length === 1 ? '' : 's'}) → ${e.tip.slice(0, 10)}`,
            ),
          );
    case 'merge.conflicted':
      return c
        ? taskLine(
            c,
            '⚠',
            'warn',
            ` ${e.task} attempt ${e.attempt}: merge conflict in ${e.files.join(', ') || '(unknown files)'}`,
          )
        : line('warn', span(`⚠ ${e.task} #${e.attempt} merge conflict in ${e.files.join(', ') || '?'}`));
    case 'task.merged':
      return c ? null : line('accent', span(`◇ ${e.task} merged; waits for the integration check`));
    case 'integration.check.started':
      return line(
        'muted',
        span('integration', 'accent'),
        span(` check ${e.check} (${checkScope(e.kind, e.merges)}) on ${e.tip.slice(0, 12)}`),
      );
    case 'integration.check.finished':
      return line(
        e.outcome === 'passed' ? 'ok' : 'bad',
        span('integration', 'accent'),
        span(
          ` check ${e.check} ${e.outcome} in ${prettyMs(e.duration_ms)}${e.outcome === 'failed' ? `: ${e.summary}` : ''}`,
        ),
      );
    case 'integration.verified':
      return line(
        'ok',
        span('integration', 'accent'),
        span(` verified ${e.tip.slice(0, 12)}: ${e.tasks.join(', ') || 'the base commit'}`),
      );
    case 'integration.culprit':
      return line(
        'bad',
        span('integration', 'accent'),
        span(` ${e.task} (attempt ${e.attempt}) breaks the integration check (check ${e.check}); it runs again`),
      );
    case 'integration.rewound':
      return line(
        'warn',
        span('integration', 'accent'),
        span(
          ` branch rewound to ${e.base.slice(0, 12)} without ${e.culprit}${e.kept.length ? `, ${e.kept.map((k) => k.task).join(', ')} merged again` : ''}${e.conflicted.length ? `; ${e.conflicted.map((k) => k.task).join(', ')} no longer merge and run again` : ''}`,
        ),
      );
    case 'task.succeeded': {
      if (c) {
        const t = c.state.tasks[e.task];
        const last = t?.last;
        const cost = t && t.usage.cost_usd > 0 ? ` $${t.usage.cost_usd.toFixed(4)}` : '';
        const spans = [span(` ${e.task}`)];
        if (last?.duration_ms != null) spans.push(span(` ${prettyMs(last.duration_ms)}${cost}`, 'muted'));
        if (last?.reason === 'finished') spans.push(span(`: ${last.summary}`, 'muted'));
        return taskLine(c, '✓', 'ok', ...spans);
      }
      const d = audience.state?.tasks[e.task]?.last?.duration_ms;
      return line('ok', span(`✓ ${e.task}${d != null ? ` ${formatDuration(d)}` : ''}`));
    }
    // The same words for both audiences from here to task.cancelled; the console leads with the progress.
    case 'task.failed':
      return taskLine(c, '✗', 'bad', ` ${e.task} failed (${e.reason})`);
    case 'task.skipped':
      return taskLine(c, '–', 'warn', ` ${e.task} skipped: ${e.because} did not succeed`);
    case 'task.cancelled':
      return taskLine(c, '⊘', 'warn', ` ${e.task} cancelled`);
    case 'task.reset':
      return c ? null : line('accent', span(`↺ ${e.task} reset`));
    case 'control.applied':
      return line(
        e.accepted ? 'accent' : 'bad',
        span('control', 'accent'),
        span(` ${e.action}${e.task ? ` ${e.task}` : ''} by ${e.by}: ${e.accepted ? '' : 'rejected: '}${e.message}`),
      );
    case 'run.paused':
      return c ? null : line('warn', span(e.reason === 'control' ? '‖ dispatch paused' : `‖ stopping (${e.reason})`));
    case 'run.unpaused':
      return c ? null : line('accent', span('▷ dispatch resumed'));
    case 'run.finished': {
      const tone: Tone = e.outcome === 'succeeded' ? 'ok' : 'bad';
      if (!c) return line(tone, span(`run finished: ${e.outcome}`));
      const n = c.state.counts;
      const spent = c.state.usage.cost_usd;
      return line(
        tone,
        span(e.outcome === 'succeeded' ? 'succeeded' : 'failed', tone),
        span(
          `: ${n.succeeded} succeeded, ${n.failed} failed, ${n.skipped} skipped, ${n.cancelled} cancelled in ${prettyMs(c.elapsedMs)}${c.session ? ' (this session)' : ''}` +
            (spent > 0 ? `, $${spent.toFixed(4)} spent` : ''),
        ),
      );
    }
    case 'budget.warning': {
      if (!c) return line('warn', span(`budget ${e.percent}% used (${formatCost(e.cost_usd)}, ${e.tokens} tokens)`));
      const b = c.state.budget;
      const caps = [
        b.max_cost_usd !== null ? `$${e.cost_usd.toFixed(4)} of $${b.max_cost_usd}` : null,
        b.max_tokens !== null ? `${e.tokens} of ${b.max_tokens} tokens` : null,
      ]
        .filter(Boolean)
        .join(', ');
      return line('warn', span('budget', 'warn'), span(` ${e.percent}% spent (${caps})`));
    }
    case 'budget.exhausted':
      return line(
        'bad',
        span('budget', 'bad'),
        span(
          c ? ' exhausted: no more agents are started; running attempts finish' : ' exhausted: no new attempts start',
        ),
      );
    case 'budget.changed':
      return c ? null : line('muted', span(e.type)); // shown by its type, as before it had words
    case 'notice':
      // What the coordinator tells the user beyond the facts: dim on the console, a warning in the feed.
      return c ? line('muted', span(e.text, 'muted')) : line('warn', span(oneLine(e.text)));
    default:
      // An event type this schema does not know (a newer writer's): the feed shows its type.
      return c ? null : line('muted', span(unknownType(e), 'muted'));
  }
}

const span = (text: string, tone: Tone = 'normal'): Span => ({ text, tone });

const line = (tone: Tone, ...spans: Span[]): EventLine => ({ spans, tone });

/**
 * A task's line: its mark (a glyph in the line's tone) and the rest; on the console, led by the
 * run's progress, `[done/total] `.
 */
function taskLine(
  c: Extract<Audience, { to: 'console' }> | null,
  mark: string,
  tone: Tone,
  ...rest: (Span | string)[]
): EventLine {
  const spans = [span(mark, tone), ...rest.map((r) => (typeof r === 'string' ? span(r) : r))];
  if (!c) return line(tone, ...spans);
  const n = c.state.counts;
  const done = n.succeeded + n.failed + n.skipped + n.cancelled;
  const total = Object.values(n).reduce((a, b) => a + b, 0); // O(1): counts, not the task map
  return line(tone, span(`[${done}/${total}]`, 'muted'), span(' '), ...spans);
}

/** The type of an event the union does not have (typed `never`, so a type added to the schema and not worded here fails to compile). */
function unknownType(e: never): string {
  return (e as { type: string }).type;
}

/**
 * What an integration check covers, in words: the base commit, a batch of merges, a bisection's
 * prefix of them, or (a bisection check of no merge) the verified tip checked again before the
 * first merge is blamed.
 */
function checkScope(kind: IntegrationCheckKind, merges: number): string {
  switch (kind) {
    case 'base':
      return 'the base commit';
    case 'batch':
      return `${merges} merge(s)`;
    case 'bisect':
      return merges === 0
        ? 'the verified tip again, before blaming the first merge'
        : `bisecting: the first ${merges} merge(s)`;
    default:
      return unreachable(kind, 'check kind');
  }
}
