// The attempts in flight, as the coordinator tracks them: assigned (or adopted on resume) and not
// yet recorded finished.
import type { Spend } from './budget.js';

/** An attempt and the worker it was given to. */
export interface AttemptRef {
  task: string;
  attempt: number;
  worker: string;
}

/** Why a cancel was sent to an attempt's worker. */
export type CancelReason = 'cancel-requested' | 'interrupted';

/** An attempt in flight. */
export interface InFlight extends AttemptRef {
  /** Set when a cancel was sent: the result is then expected to be `cancelled`. */
  cancelSent?: CancelReason;
  cancelSentAt?: number;
  /** Agent attempts: the caps it was given, which the budget counts as spent until it finishes. */
  reserved?: Spend;
}

/** The attempts in flight, by task and attempt number. */
export class InFlightAttempts {
  readonly #byKey = new Map<string, InFlight>();

  get size(): number {
    return this.#byKey.size;
  }

  /** The attempts in flight, in the order they were tracked (a copy: callers may untrack as they go). */
  list(): InFlight[] {
    return [...this.#byKey.values()];
  }

  get(task: string, attempt: number | undefined): InFlight | undefined {
    return this.#byKey.get(`${task}/${attempt}`);
  }

  track(f: InFlight): void {
    this.#byKey.set(`${f.task}/${f.attempt}`, f);
  }

  /** Stops tracking an attempt; false if it was not tracked (already recorded finished). */
  untrack(task: string, attempt: number): boolean {
    return this.#byKey.delete(`${task}/${attempt}`);
  }

  /**
   * Records that a cancel is being sent to `f`'s worker; false if one was sent already for an
   * interrupt (which no later cancel overrides).
   */
  markCancel(f: InFlight, reason: CancelReason, now = Date.now()): boolean {
    if (f.cancelSent === 'interrupted') return false;
    f.cancelSent = reason;
    f.cancelSentAt = now;
    return true;
  }

  /** True if `f`'s worker has not answered a cancel within `limitMs`. */
  cancelOverdue(f: InFlight, limitMs: number): f is InFlight & { cancelSent: CancelReason } {
    return f.cancelSent !== undefined && Date.now() - f.cancelSentAt! >= limitMs;
  }

  /** True if any attempt in flight holds a budget reservation (an agent attempt, with a run cap or not). */
  anyReserved(): boolean {
    for (const f of this.#byKey.values()) if (f.reserved) return true;
    return false;
  }
}
