// Control requests (control/<ulid>.json): created by anyone, applied and archived by the coordinator.
import fs from 'node:fs';
import { ulid } from 'ulid';
import { writeJsonAtomic } from './files.js';
import type { RunPaths } from './paths.js';
import { ControlRequestSchema, type ControlAction, type ControlRequest } from './schemas.js';

/**
 * Creates a control request. Returns its id (a ULID: requests are applied in id order).
 * The file is written atomically, so the coordinator never reads half of it.
 */
export async function createControlRequest(
  paths: RunPaths,
  action: ControlAction,
  task: string | undefined,
  by: string,
): Promise<string> {
  const id = ulid();
  const request: ControlRequest = { action, ...(task ? { task } : {}), by, at: new Date().toISOString() };
  fs.mkdirSync(paths.controlDir, { recursive: true });
  await writeJsonAtomic(paths.controlRequest(id), request);
  return id;
}

/** A request read from control/, or a file there that is not a valid request. */
export type PendingRequest = { id: string; request: ControlRequest } | { id: string; malformed: string };

/** Lists pending requests in id order. */
export function pendingRequests(paths: RunPaths): PendingRequest[] {
  let names: string[];
  try {
    names = fs
      .readdirSync(paths.controlDir)
      .filter((n) => /^[0-9A-Z]{26}\.json$/.test(n))
      .sort();
  } catch {
    return [];
  }
  const out: PendingRequest[] = [];
  for (const name of names) {
    const id = name.slice(0, -5);
    try {
      const parsed = ControlRequestSchema.safeParse(JSON.parse(fs.readFileSync(paths.controlRequest(id), 'utf8')));
      out.push(
        parsed.success ? { id, request: parsed.data } : { id, malformed: parsed.error.issues[0]?.message ?? 'invalid' },
      );
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') out.push({ id, malformed: (e as Error).message });
    }
  }
  return out;
}

/** Moves an applied (or rejected) request to control/done/. */
export function archiveRequest(paths: RunPaths, id: string): void {
  fs.mkdirSync(paths.controlDoneDir, { recursive: true });
  fs.renameSync(paths.controlRequest(id), paths.controlDone(id));
}
