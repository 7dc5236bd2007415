// Fault injection for the crash tests: the coordinator kills itself at a named point.
import type { Logger } from 'pino';

/**
 * Points where the coordinator kills itself with SIGKILL when $SWARM_TEST_CRASH_AT names them:
 * the crash tests use them to stop at exact moments no outside signal could hit reliably.
 */
export type CrashPoint = 'after-plan' | 'after-assign' | 'after-result' | 'before-merge';

/** Kills this process at once (SIGKILL) if $SWARM_TEST_CRASH_AT is `point`. */
export function crashPoint(point: CrashPoint, logger: Logger): void {
  if (process.env.SWARM_TEST_CRASH_AT === point) {
    logger.warn({ point }, 'SWARM_TEST_CRASH_AT: killing myself');
    process.kill(process.pid, 'SIGKILL');
  }
}
