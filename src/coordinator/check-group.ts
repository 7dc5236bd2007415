// The process group of a running integration check, recorded in the run directory
// (`integration/check-<n>.group.json`) so that a coordinator resumed after a crash can kill
// whatever the check left running, also processes that dropped the check's environment marker
// (`env -i ...`), which the marker scan cannot find.
import fs from 'node:fs';
import { z } from 'zod';
import { writeJsonAtomicSync } from '../protocol/files.js';
import { HOST, groupAlive, processStartTime, signalGroup } from '../util/process.js';

/** `integration/check-<n>.group.json`: the check's process group, and how to tell its leader. */
export const CheckGroupSchema = z.object({
  /** The process group id: the pid of its leader (the check's shell, or bwrap in a sandbox). */
  pgid: z.number().int().positive(),
  /** The host the group runs on: a pid means nothing on another. */
  host: z.string(),
  /** The leader's start time (Linux: /proc/<pid>/stat field 22, clock ticks since boot); null where unknown. */
  start_time: z.string().nullable(),
  /** When it was recorded (ISO 8601), for people. */
  at: z.string(),
});
export type CheckGroup = z.infer<typeof CheckGroupSchema>;

/**
 * Records the process group `pgid` of a check that just started, atomically (temporary file,
 * fsync, rename), synchronously: called as soon as the group exists, before the coordinator does
 * anything else.
 */
export function recordCheckGroup(file: string, pgid: number): void {
  const group: CheckGroup = {
    pgid,
    host: HOST,
    start_time: processStartTime(pgid) ?? null,
    at: new Date().toISOString(),
  };
  writeJsonAtomicSync(file, group);
}

/** What {@link killRecordedGroup} found and did. */
export type GroupKill =
  /** No record (the check ended, or never started), or one that does not parse. */
  | { kind: 'none' }
  /** Recorded on another host: left alone. */
  | { kind: 'other-host'; host: string }
  /** The pgid now names a process started at another time (a reused pid): left alone. */
  | { kind: 'reused'; pgid: number }
  /** No start time was recorded (no /proc), so the group cannot be told from a later one: left alone. */
  | { kind: 'unverifiable'; pgid: number }
  /** Nothing of the group is left. */
  | { kind: 'gone'; pgid: number }
  /** SIGKILL sent to the group. */
  | { kind: 'killed'; pgid: number };

/**
 * Kills (SIGKILL) the process group recorded in `file`, if it was recorded on this host and is
 * still that group: a process with the pgid as its pid must have the recorded start time. When
 * the leader has exited but members of its group live on, the pgid cannot have been reused (Linux
 * hands out no pid still used as a process group id), so the group is killed too. The record is
 * then removed. Never throws.
 */
export function killRecordedGroup(file: string): GroupKill {
  let group: CheckGroup;
  try {
    const parsed = CheckGroupSchema.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
    if (!parsed.success) return { kind: 'none' };
    group = parsed.data;
  } catch {
    return { kind: 'none' };
  }
  const { pgid } = group;
  if (group.host !== HOST) return { kind: 'other-host', host: group.host };
  if (group.start_time === null) return { kind: 'unverifiable', pgid };
  const start = processStartTime(pgid);
  if (start !== undefined && start !== group.start_time) return { kind: 'reused', pgid };
  const result: GroupKill =
    groupAlive(pgid) && signalGroup(pgid, 'SIGKILL') ? { kind: 'killed', pgid } : { kind: 'gone', pgid };
  fs.rmSync(file, { force: true });
  return result;
}
