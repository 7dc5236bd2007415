// `swarm control <run-dir> <action> [task]`: creates a control request and, with --wait, waits
// until the coordinator has applied it.
import fs from 'node:fs';
import { createControlRequest } from '../protocol/control.js';
import { EventTail } from '../protocol/follow.js';
import { RunPaths } from '../protocol/paths.js';
import { ControlAction } from '../protocol/schemas.js';
import type { Output } from '../presenter/console.js';
import { sleep } from '../util/process.js';
import { EXIT } from '../run/exit-codes.js';

/** Creates the request; prints its id. With `wait` (ms), waits for its `control.applied` event. */
export async function controlCommand(
  runDir: string,
  action: string,
  task: string | undefined,
  options: { wait?: number },
  out: Output,
  err: Output,
): Promise<number> {
  const paths = new RunPaths(runDir);
  if (!fs.existsSync(paths.runJson)) {
    err.write(`swarm: ${paths.root}: not a run directory (no run.json)\n`);
    return EXIT.cannotStart;
  }
  const parsed = ControlAction.safeParse(action);
  if (!parsed.success) {
    err.write(`swarm: unknown action "${action}" (expected one of: ${ControlAction.options.join(', ')})\n`);
    return EXIT.cannotStart;
  }
  const needsTask = parsed.data === 'cancel-task' || parsed.data === 'retry-task';
  if (needsTask !== (task !== undefined)) {
    err.write(`swarm: ${parsed.data} ${needsTask ? 'needs a task id' : 'takes no task id'}\n`);
    return EXIT.cannotStart;
  }
  const id = await createControlRequest(paths, parsed.data, task, 'cli');
  out.write(`request ${id}: ${parsed.data}${task ? ` ${task}` : ''}\n`);
  if (!options.wait) return 0;
  const deadline = Date.now() + options.wait;
  const tail = new EventTail(paths.eventsJsonl, { offset: 0 });
  while (Date.now() < deadline) {
    for (const e of tail.read()) {
      if (e.type === 'control.applied' && e.request === id) {
        out.write(`${e.accepted ? 'applied' : 'rejected'}: ${e.message}\n`);
        return e.accepted ? 0 : 1;
      }
    }
    await sleep(100);
  }
  out.write(`not applied within ${options.wait} ms (is a coordinator running? it is applied when the run resumes)\n`);
  return 1;
}
