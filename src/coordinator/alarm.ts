// The loop's alarm clock: wakes it at the earliest moment it must look again by itself (when a
// retry's backoff ends), since no file change will.
export class Alarm {
  readonly #ring: () => void;
  #timer: NodeJS.Timeout | undefined;
  #at: number | undefined;

  constructor(ring: () => void) {
    this.#ring = ring;
  }

  /** Rings at `at` (ms since epoch), instead of when it was set for, unless that is `at` already. */
  set(at: number, now = Date.now()): void {
    if (at === this.#at) return;
    clearTimeout(this.#timer);
    this.#at = at;
    this.#timer = setTimeout(
      () => {
        this.#at = undefined;
        this.#ring();
      },
      Math.max(0, at - now),
    );
  }

  clear(): void {
    clearTimeout(this.#timer);
  }
}
