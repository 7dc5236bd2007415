// Rate limiting for work that is asked for far more often than it is worth doing: redrawing a
// screen after every file change of a busy run, or re-reading a run directory after each of a
// burst of watcher events.

/**
 * Runs `fn` soon after `request()`, at most once per `intervalMs`: requests that arrive while a
 * run is due are merged into it. The first request after a quiet period runs on the next
 * macrotask; later ones wait out the rest of the interval.
 */
export class Throttle {
  readonly #fn: () => void;
  readonly #intervalMs: number;
  #last = -Infinity;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(fn: () => void, intervalMs: number) {
    this.#fn = fn;
    this.#intervalMs = intervalMs;
  }

  /** Asks for a run of `fn`. */
  request(): void {
    if (this.#timer || this.#stopped) return;
    const wait = Math.max(0, this.#last + this.#intervalMs - Date.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#stopped) return;
      this.#last = Date.now();
      this.#fn();
    }, wait);
  }

  /** Cancels a pending run; later requests are ignored. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
