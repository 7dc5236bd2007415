// The exit codes of the `swarm` commands; a run's failures carry the one `swarm run`/`swarm resume`
// ends with, so that every caller (the CLI today, a server next) reports the same outcome.

/** Exit codes of `swarm run` and `swarm resume` (the README lists them). */
export const EXIT = {
  /** Every task succeeded. */
  succeeded: 0,
  /** Some task failed, was skipped or was cancelled. */
  failed: 1,
  /**
   * An unexpected error (a bug, or a system failure no check foresaw): one line on stderr names
   * the file with the details. A run it interrupted is left as after a crash: `swarm resume` continues it.
   */
  unexpected: 1,
  /** The run could not start: bad config, bad plan, lock held, not a run directory. */
  cannotStart: 2,
  /**
   * The run budget is spent: `swarm resume --max-cost-usd N` (or --max-tokens) continues it; when
   * the planner spent it, nothing ran and there is nothing to resume (raise `budget` in the config).
   */
  budget: 3,
  /**
   * Every task succeeded but publishing failed (the push, the pull request, the issue comment):
   * the work is kept, and `swarm publish <run-dir>` finishes the publishing.
   */
  publishFailed: 4,
  /** Stopped before finishing (Ctrl-C, stop-run, SIGTERM): `swarm resume` continues it. */
  stopped: 130,
} as const;

/** One of {@link EXIT}'s values. */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
