// The run lock: one live coordinator per run directory (proper-lockfile: an atomically created
// directory whose mtime the holder refreshes). A lock left by a dead coordinator is taken over.
import lockfile from 'proper-lockfile';
import { readJsonFile } from '../protocol/files.js';
import type { RunPaths } from '../protocol/paths.js';
import { CoordinatorJsonSchema, type CoordinatorJson } from '../protocol/schemas.js';
import { coordinatorLiveness } from '../protocol/run-reader.js';
import { err, ok, type Result } from '../util/result.js';
import { sleep } from '../util/process.js';

/** The lock counts as stale when its mtime is this old (the holder refreshes it every STALE_MS / 2). */
const STALE_MS = 4000;

/** Why the lock could not be taken: another coordinator is alive (with its coordinator.json). */
export interface LockHeld {
  reason: 'lock-held';
  holder: CoordinatorJson | undefined;
  message: string;
}

/** A held run lock. */
export interface RunLock {
  release(): Promise<void>;
}

/**
 * Takes the run lock. If it is held by a coordinator whose pid is dead on this host (kill -9,
 * a crash), waits for proper-lockfile to judge it stale (≤ 4 s) and takes it over.
 * @param onCompromised called if the lock is lost while held (its directory removed or its
 *   refresh failing for longer than the stale time).
 * @returns the lock, or `lock-held` naming the live holder.
 */
export async function acquireRunLock(paths: RunPaths, onCompromised: (e: Error) => void): Promise<Result<RunLock, LockHeld>> {
  const options = { lockfilePath: paths.lock, stale: STALE_MS, realpath: false, onCompromised };
  const deadline = Date.now() + STALE_MS * 3;
  for (;;) {
    try {
      const release = await lockfile.lock(paths.root, options);
      return ok({ release: () => release().catch(() => undefined) });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ELOCKED') throw e;
    }
    let holder: CoordinatorJson | undefined;
    try {
      holder = readJsonFile(paths.coordinatorJson, CoordinatorJsonSchema);
    } catch {
      holder = undefined;
    }
    if (coordinatorLiveness(holder, STALE_MS) === 'alive') {
      const who = holder ? `pid ${holder.pid} on ${holder.host}, running \`swarm ${holder.command}\` since ${holder.started_at}` : 'another process';
      return err({ reason: 'lock-held', holder, message: `the run is already being coordinated by ${who}; stop it first, or watch it with \`swarm status --follow\`` });
    }
    if (Date.now() >= deadline) {
      return err({ reason: 'lock-held', holder, message: `the run lock ${paths.lock} is held and was not released within ${(STALE_MS * 3) / 1000} s` });
    }
    // Dead or exiting holder: its lock turns stale within STALE_MS; try again shortly.
    await sleep(250);
  }
}
