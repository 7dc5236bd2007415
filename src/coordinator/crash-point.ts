// Fault injection for the crash tests: `swarm run` or the coordinator kills itself at a named point.
import type { Logger } from 'pino';

/**
 * Points where `swarm run` or the coordinator kills itself with SIGKILL when $SWARM_TEST_CRASH_AT names them:
 * the crash tests use them to stop at exact moments no outside signal could hit reliably.
 */
export type CrashPoint =
  | 'after-plan'
  | 'after-assign'
  | 'after-result'
  | 'before-merge'
  // A control request applied (its control.applied written), before it is archived to control/done/.
  | 'after-control'
  // The merge queue (merge-queue.ts): a check of each kind started, a check's end recorded, merges
  // verified, a culprit named, the branch rewound (before its event).
  | 'during-base-check'
  | 'during-batch-check'
  | 'during-bisect-check'
  | 'after-check'
  | 'after-verified'
  | 'after-culprit'
  | 'after-rewind-ref'
  // `swarm run` creating its run directory (src/run/create-run.ts), in this order:
  | StartupCrashPoint;

/**
 * The points of `swarm run`'s start-up, in order: the temporary directory made, its lock taken,
 * creating.json written, the planner done (planned runs only), the integration branch created
 * (git isolation only), plan.json written, run.json written, the directory renamed into place
 * (before the coordinator starts).
 */
export const STARTUP_CRASH_POINTS = [
  'startup-dir',
  'startup-lock',
  'startup-record',
  'startup-planned',
  'startup-branch',
  'startup-plan-json',
  'startup-run-json',
  'startup-renamed',
] as const;
export type StartupCrashPoint = (typeof STARTUP_CRASH_POINTS)[number];

/** Kills this process at once (SIGKILL) if $SWARM_TEST_CRASH_AT is `point`, logging it first to `logger` if given. */
export function crashPoint(point: CrashPoint, logger?: Logger): void {
  if (process.env.SWARM_TEST_CRASH_AT === point) {
    logger?.warn({ point }, 'SWARM_TEST_CRASH_AT: killing myself');
    process.kill(process.pid, 'SIGKILL');
  }
}
