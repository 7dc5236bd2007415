// The dashboard's actions on a run: pause or resume dispatch (p), cancel the selected task (c,
// after a y/n question), retry it (r). Each is a control request, as `swarm control` makes them;
// what the run's state makes pointless is refused here with a word on the bottom line instead.
import type { ControlAction } from '../protocol/schemas.js';
import { TERMINAL } from '../protocol/state.js';
import type { RunSource } from './source.js';
import type { Tone } from './theme.js';

/** What the actions need of the dashboard around them. */
export interface ActionHost {
  readonly source: RunSource;
  /** Shows a message on the bottom line. */
  say(text: string, tone: Tone): void;
  /** Asks a y/n question on the bottom line; `action` runs on y. */
  confirm(question: string, action: () => void): void;
  /** Asks for a frame (a request was created: its line changes). */
  redraw(): void;
}

/** The control actions of one dashboard. */
export class RunActions {
  readonly #host: ActionHost;

  constructor(host: ActionHost) {
    this.#host = host;
  }

  /** p: pause dispatch while the run is running, resume it while it is paused. */
  pauseOrResume(): void {
    if (this.#finished('pause')) return;
    const phase = this.#host.source.model.state.phase;
    if (phase === 'paused') this.#send('resume');
    else if (phase === 'running') this.#send('pause');
    else this.#host.say(`the run is ${phase}: nothing to pause or resume`, 'muted');
  }

  /** c: cancel a task that is not finished (and skip its dependents), once the user says y. */
  cancel(task: string): void {
    if (this.#finished('cancel')) return;
    const snapshot = this.#host.source.model.state.tasks[task];
    const state = snapshot?.state ?? 'pending';
    if (TERMINAL.has(state)) return this.#host.say(`${task} is already ${state}`, 'muted');
    const attempt = snapshot?.current?.attempt;
    this.#host.confirm(
      `cancel ${task} (${state}${attempt ? `, attempt ${attempt}` : ''}) and skip its dependents? y/n`,
      () => this.#send('cancel-task', task),
    );
  }

  /** r: retry a failed or cancelled task (with the dependents it skipped). */
  retry(task: string): void {
    if (this.#finished('retry')) return;
    const state = this.#host.source.model.state.tasks[task]?.state ?? 'pending';
    if (state !== 'failed' && state !== 'cancelled')
      return this.#host.say(`${task} is ${state}; only failed or cancelled tasks can be retried`, 'muted');
    this.#send('retry-task', task);
  }

  /** Refuses an action on a finished run (its requests are never applied); returns true if refused. */
  #finished(what: string): boolean {
    const source = this.#host.source;
    if (source.model.state.phase !== 'finished') return false;
    this.#host.say(
      `the run is finished: nothing to ${what}${what === 'retry' ? ` (swarm resume --retry-failed ${source.paths.root} runs failed tasks again)` : ''}`,
      'muted',
    );
    return true;
  }

  #send(action: ControlAction, task?: string): void {
    this.#host.source
      .request(action, task)
      .then(() => this.#host.redraw())
      .catch((e: unknown) => this.#host.say(`could not create the ${action} request: ${(e as Error).message}`, 'bad'));
  }
}
