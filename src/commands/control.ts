// `swarm control <run-dir> <action> [task]`: creates a control request (src/run/request-control.ts),
// says who will apply it and, with --wait, waits until the coordinator has applied it.
import { EventTail } from '../protocol/follow.js';
import { RunPaths } from '../protocol/paths.js';
import type { Output } from '../presenter/console.js';
import { requestControl, type ControlRequested } from '../run/request-control.js';
import { sleep } from '../util/process.js';
import { printFailure } from './refuse.js';

/** What to tell the user about who applies a request when no live coordinator is known to; null when one is. */
function applierNote(r: ControlRequested): string | null {
  switch (r.applier.kind) {
    case 'coordinator':
      return null;
    case 'next-resume':
      return `no coordinator is running this run: the request is applied when it is resumed (swarm resume ${r.root})`;
    case 'unknown':
      return `the run's coordinator on ${r.applier.host} has not been heard from lately: it applies the request if it is alive, else the next \`swarm resume ${r.root}\``;
  }
}

/**
 * Creates the request; prints its id and, when no live coordinator runs the run, who will apply it.
 * With `wait` (ms), waits for its `control.applied` event.
 * @returns the exit code: 0 created (with `wait`: applied), 1 rejected by the coordinator, not
 *   applied within `wait`, or (with `wait`) no coordinator to apply it now; 2 refused (not a run,
 *   a bad action or task id, a task the run does not have, a finished run).
 */
export async function controlCommand(
  runDir: string,
  action: string,
  task: string | undefined,
  options: { wait?: number },
  out: Output,
  err: Output,
): Promise<number> {
  const requested = await requestControl({ runDir, action, ...(task !== undefined ? { task } : {}), by: 'cli' });
  if (!requested.ok) return printFailure(err, requested.error);
  const r = requested.value;
  out.write(`request ${r.id}: ${r.action}${r.task ? ` ${r.task}` : ''}\n`);
  const note = applierNote(r);
  if (note) out.write(`${note}\n`);
  if (!options.wait) return 0;
  if (r.applier.kind === 'next-resume') {
    out.write('not applied: nothing will apply it before the run is resumed\n');
    return 1;
  }
  const paths = new RunPaths(r.root);
  const deadline = Date.now() + options.wait;
  const tail = new EventTail(paths.eventsJsonl, { offset: 0 });
  while (Date.now() < deadline) {
    for (const e of tail.read()) {
      if (e.type === 'control.applied' && e.request === r.id) {
        out.write(`${e.accepted ? 'applied' : 'rejected'}: ${e.message}\n`);
        return e.accepted ? 0 : 1;
      }
    }
    await sleep(100);
  }
  out.write(`not applied within ${options.wait} ms (is a coordinator running? it is applied when the run resumes)\n`);
  return 1;
}
