// The run lock (DESIGN §2): one live coordinator per run directory, with stale-lock detection by
// pid and host. It is a directory made with mkdir (atomic) holding owner.json.
//
// Why not proper-lockfile: it judges a lock stale by its mtime, which the holder refreshes from a
// timer. A coordinator stopped with Ctrl-Z (SIGSTOP) or blocked for a few seconds then loses its
// lock to a second coordinator while it is still alive, and both write events.jsonl. Liveness by
// pid (on this host) has no such window, and a dead coordinator's lock is taken over at once.
import fs from 'node:fs';
import path from 'node:path';
import { ulid } from 'ulid';
import { z } from 'zod';
import { readJsonFile, writeJsonAtomicSync } from '../protocol/files.js';
import type { RunPaths } from '../protocol/paths.js';
import { CoordinatorJsonSchema } from '../protocol/schemas.js';
import { err, ok, type Result } from '../util/result.js';
import { HOST, pidAlive, processStartTime, sleep } from '../util/process.js';

/** lock/owner.json: who holds the lock. */
export const LockOwnerSchema = z.object({
  pid: z.number().int(),
  host: z.string(),
  /** The process's start time (Linux: /proc/<pid>/stat field 22), so a reused pid is not taken for the holder. */
  pid_start: z.string().nullable(),
  acquired_at: z.string(),
});
type LockOwner = z.infer<typeof LockOwnerSchema>;

/** A lock directory without owner.json older than this was left by a process that died while taking it. */
export const HALF_MADE_MS = 10_000;

/** Why the lock could not be taken. */
export interface LockHeld {
  reason: 'lock-held';
  message: string;
}

/** A held run lock. */
export interface RunLock {
  release(): void;
}

/**
 * Takes the run lock. A lock whose owner is dead (its pid gone on this host, or, for another host,
 * no coordinator heartbeat for `staleAfterMs`) is taken over.
 * @returns the lock, or `lock-held` with a message naming the live holder.
 */
export async function acquireRunLock(paths: RunPaths, staleAfterMs = 15_000): Promise<Result<RunLock, LockHeld>> {
  const owner = path.join(paths.lock, 'owner.json');
  for (let tries = 0; ; tries++) {
    try {
      fs.mkdirSync(paths.lock);
      const me: LockOwner = {
        pid: process.pid,
        host: HOST,
        pid_start: processStartTime(process.pid) ?? null,
        acquired_at: new Date().toISOString(),
      };
      writeJsonAtomicSync(owner, me);
      return ok(heldRunLock(paths));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = readOwner(owner);
    const verdict = judge(paths, holder, staleAfterMs);
    if (verdict === 'alive') {
      const who = holder
        ? `pid ${holder.pid} on ${holder.host} (since ${holder.acquired_at})`
        : 'a process that is starting';
      if (holder || tries >= 20)
        return err({
          reason: 'lock-held',
          message: `the run is already being coordinated by ${who}; stop it first, or watch it with \`swarm status --follow\``,
        });
      await sleep(100); // owner.json is being written
      continue;
    }
    if (tries >= 20)
      return err({ reason: 'lock-held', message: `could not take over the stale run lock ${paths.lock}` });
    takeOver(paths.lock, holder);
  }
}

/**
 * The lock at `paths.lock`, as held by this process: for a run directory renamed with its lock
 * inside (`swarm run` builds it under a temporary name), whose lock now lives at the new path.
 */
export function heldRunLock(paths: RunPaths): RunLock {
  return { release: () => fs.rmSync(paths.lock, { recursive: true, force: true }) };
}

/**
 * Who holds the lock of `paths`, judged as {@link acquireRunLock} judges it, without taking it:
 * `free` (no lock/), or `alive`/`dead` with the holder's pid and host when owner.json says.
 */
export function inspectRunLock(
  paths: RunPaths,
  staleAfterMs = 15_000,
): { state: 'free' } | { state: 'alive' | 'dead'; pid: number | null; host: string | null } {
  if (!fs.existsSync(paths.lock)) return { state: 'free' };
  const holder = readOwner(path.join(paths.lock, 'owner.json'));
  return { state: judge(paths, holder, staleAfterMs), pid: holder?.pid ?? null, host: holder?.host ?? null };
}

/** Whether the lock's holder is alive or dead. */
function judge(paths: RunPaths, holder: LockOwner | undefined, staleAfterMs: number): 'alive' | 'dead' {
  if (!holder) {
    let age = 0;
    try {
      age = Date.now() - fs.statSync(paths.lock).mtimeMs;
    } catch {
      return 'dead'; // gone meanwhile: try again
    }
    return age > HALF_MADE_MS ? 'dead' : 'alive';
  }
  if (holder.host === HOST) {
    if (!pidAlive(holder.pid)) return 'dead';
    const start = processStartTime(holder.pid);
    return holder.pid_start !== null && start !== undefined && start !== holder.pid_start ? 'dead' : 'alive';
  }
  let c;
  try {
    c = readJsonFile(paths.coordinatorJson, CoordinatorJsonSchema);
  } catch {
    return 'alive';
  }
  // Another host: judge by the coordinator's heartbeat, or by the lock's age until it writes one.
  const last =
    c && !c.stopped_at
      ? Math.max(Date.parse(c.heartbeat_at), Date.parse(holder.acquired_at))
      : Date.parse(holder.acquired_at);
  return Date.now() - last < staleAfterMs ? 'alive' : 'dead';
}

/**
 * Moves a dead holder's lock aside. Rename is atomic, so of two processes taking over at once one
 * moves it; if what was moved turns out to be a fresh lock (someone else took over in between),
 * it is moved back.
 */
function takeOver(lock: string, dead: LockOwner | undefined): void {
  const aside = `${lock}.stale-${ulid()}`;
  try {
    fs.renameSync(lock, aside);
  } catch {
    return; // someone else moved it: try again
  }
  const moved = readOwner(path.join(aside, 'owner.json'));
  const same = moved?.pid === dead?.pid && moved?.acquired_at === dead?.acquired_at;
  if (!same) {
    try {
      fs.renameSync(aside, lock);
      return;
    } catch {
      // a new lock exists already; the one we moved belonged to a holder that lost the race
    }
  }
  fs.rmSync(aside, { recursive: true, force: true });
}

function readOwner(file: string): LockOwner | undefined {
  try {
    return readJsonFile(file, LockOwnerSchema);
  } catch {
    return undefined;
  }
}
