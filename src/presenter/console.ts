// The terminal presenter: turns events into lines on stdout. Core code prints nothing itself.
import prettyMs from 'pretty-ms';
import type { SwarmEvent } from '../protocol/events.js';
import type { RunState } from '../protocol/state.js';

/** Where presenter output goes, and whether it may use colour. */
export interface Output {
  write(text: string): void;
  color: boolean;
}

const paint = (on: boolean, code: number, text: string): string => (on ? `\u001b[${code}m${text}\u001b[0m` : text);

/** Prints one line per interesting event: starts, finishes, retries, skips, control, the end. */
export class ConsolePresenter {
  readonly #out: Output;
  readonly #started: number;
  readonly #clock: string;

  /**
   * @param startedAt when the clock of the last line starts (ms since epoch): the run's start, or
   *   this session's (the default)
   * @param session the clock is this session's, not the run's (a resume): the last line says so
   */
  constructor(out: Output, startedAt = Date.now(), session = false) {
    this.#out = out;
    this.#started = startedAt;
    this.#clock = session ? ' (this session)' : '';
  }

  /** A line that is not an event (where the run is, what Ctrl-C does). */
  notice(text: string): void {
    this.#line(paint(this.#out.color, 2, text));
  }

  /** Event listener: prints the event if it is one a person wants to see scroll by. */
  onEvent = (e: SwarmEvent, state: RunState): void => {
    const c = this.#out.color;
    const n = state.counts;
    const done = n.succeeded + n.failed + n.skipped + n.cancelled;
    const total = Object.values(n).reduce((a, b) => a + b, 0); // O(1): counts, not the task map
    const progress = paint(c, 2, `[${done}/${total}]`);
    switch (e.type) {
      case 'attempt.assigned':
        this.#line(
          `${progress} ${paint(c, 36, '▶')} ${e.task}${e.attempt > 1 ? ` (attempt ${e.attempt})` : ''} on ${e.worker}`,
        );
        break;
      case 'attempt.finished':
        if (e.outcome !== 'succeeded') {
          this.#line(`${progress} ${paint(c, 31, '✗')} ${e.task} attempt ${e.attempt}: ${e.summary}`);
        }
        break;
      case 'task.succeeded': {
        const t = state.tasks[e.task];
        const last = t?.last;
        const cost = t && t.usage.cost_usd > 0 ? ` $${t.usage.cost_usd.toFixed(4)}` : '';
        this.#line(
          `${progress} ${paint(c, 32, '✓')} ${e.task}${last?.duration_ms != null ? paint(c, 2, ` ${prettyMs(last.duration_ms)}${cost}`) : ''}${last?.reason === 'finished' ? paint(c, 2, `: ${last.summary}`) : ''}`,
        );
        break;
      }
      case 'budget.warning': {
        const b = state.budget;
        const caps = [
          b.max_cost_usd !== null ? `$${e.cost_usd.toFixed(4)} of $${b.max_cost_usd}` : null,
          b.max_tokens !== null ? `${e.tokens} of ${b.max_tokens} tokens` : null,
        ]
          .filter(Boolean)
          .join(', ');
        this.#line(`${paint(c, 33, 'budget')} ${e.percent}% spent (${caps})`);
        break;
      }
      case 'budget.exhausted':
        this.#line(`${paint(c, 31, 'budget')} exhausted: no more agents are started; running attempts finish`);
        break;
      case 'task.ready':
        if (e.not_before)
          this.#line(
            `${progress} ${paint(c, 33, '↻')} ${e.task} retries in ${prettyMs(Math.max(0, Date.parse(e.not_before) - Date.parse(e.at)))}`,
          );
        break;
      case 'merge.conflicted':
        this.#line(
          `${progress} ${paint(c, 33, '⚠')} ${e.task} attempt ${e.attempt}: merge conflict in ${e.files.join(', ') || '(unknown files)'}`,
        );
        break;
      case 'task.failed':
        this.#line(`${progress} ${paint(c, 31, '✗')} ${e.task} failed (${e.reason})`);
        break;
      case 'task.skipped':
        this.#line(`${progress} ${paint(c, 33, '–')} ${e.task} skipped: ${e.because} did not succeed`);
        break;
      case 'task.cancelled':
        this.#line(`${progress} ${paint(c, 33, '⊘')} ${e.task} cancelled`);
        break;
      case 'control.applied':
        this.#line(
          `${paint(c, 35, 'control')} ${e.action}${e.task ? ` ${e.task}` : ''} by ${e.by}: ${e.accepted ? '' : 'rejected: '}${e.message}`,
        );
        break;
      case 'run.finished':
        this.#line(
          `${e.outcome === 'succeeded' ? paint(c, 32, 'succeeded') : paint(c, 31, 'failed')}: ${n.succeeded} succeeded, ${n.failed} failed, ${n.skipped} skipped, ${n.cancelled} cancelled in ${prettyMs(Date.now() - this.#started)}${this.#clock}` +
            (state.usage.cost_usd > 0 ? `, $${state.usage.cost_usd.toFixed(4)} spent` : ''),
        );
        break;
      default:
        break;
    }
  };

  #line(text: string): void {
    this.#out.write(text + '\n');
  }
}
