// What control requests (control/<ulid>.json) do to a run: pause and resume dispatch, cancel or
// retry a task, stop the run. Each request becomes one `control.applied` event, after its effects.
import { crashPoint } from './crash-point.js';
import type { Logger } from 'pino';
import { archiveRequest, pendingRequests } from '../protocol/control.js';
import type { RunPaths } from '../protocol/paths.js';
import type { ControlAction } from '../protocol/schemas.js';
import { unreachable } from '../util/unreachable.js';
import type { EventLog } from './event-log.js';
import type { InFlight, InFlightAttempts } from './in-flight.js';
import type { TaskBoard } from './task-board.js';

/** Whether a request was accepted, and what it did or why not (for `control.applied`). */
export interface Verdict {
  accepted: boolean;
  message: string;
}

/** What control requests act on. */
export interface ControlTarget {
  log: EventLog;
  board: TaskBoard;
  inFlight: InFlightAttempts;
  /** Sends a cancel to the worker of an attempt in flight. */
  cancel(f: InFlight): void;
  /** stop-run: the session stops dispatching and ends once running attempts finish (or says why not). */
  stopRun(): Verdict;
}

/** What applying requests needs besides their target. */
export interface ControlInbox {
  paths: RunPaths;
  logger: Logger;
  /** Resume only: requests the log says were applied already (before a crash, not yet archived). */
  applied: ReadonlySet<string> | undefined;
  /** Tells the user about a request that was ignored. */
  notice: (text: string) => void;
}

/** Applies pending control requests in id order, and archives each to control/done/. */
export function applyControlRequests(inbox: ControlInbox, target: ControlTarget): void {
  const { paths, logger } = inbox;
  for (const p of pendingRequests(paths)) {
    if ('malformed' in p) {
      logger.warn({ request: p.id, why: p.malformed }, 'malformed control request archived');
      inbox.notice(`ignored malformed control request ${p.id}: ${p.malformed}`);
      archiveRequest(paths, p.id);
      continue;
    }
    if (inbox.applied?.has(p.id)) {
      archiveRequest(paths, p.id); // applied before a crash, not yet archived: never twice
      continue;
    }
    const { action, task = null, by } = p.request;
    const { accepted, message } = controlEffect(action, task, target);
    target.log.append({ type: 'control.applied', request: p.id, action, task, by, accepted, message });
    crashPoint('after-control', logger);
    archiveRequest(paths, p.id);
  }
}

/** Carries out one request (its events come before its `control.applied`). */
export function controlEffect(action: ControlAction, id: string | null, target: ControlTarget): Verdict {
  const { log } = target;
  const phase = log.state.phase;
  switch (action) {
    case 'pause':
      if (phase !== 'running') return { accepted: false, message: `the run is ${phase}, not running` };
      log.append({ type: 'run.paused', reason: 'control' });
      return { accepted: true, message: 'dispatch paused; running attempts go on' };
    case 'resume':
      if (phase !== 'paused') return { accepted: false, message: `the run is ${phase}, not paused` };
      log.append({ type: 'run.unpaused' });
      return { accepted: true, message: 'dispatch resumed' };
    case 'stop-run':
      return target.stopRun();
    case 'cancel-task':
    case 'retry-task': {
      if (id === null) return { accepted: false, message: `${action} needs a task id` };
      const s = log.state.tasks[id];
      if (!s) return { accepted: false, message: `unknown task "${id}"` };
      return action === 'cancel-task' ? cancelTask(id, target) : retryTask(id, target);
    }
    default:
      return unreachable(action, 'control action');
  }
}

function cancelTask(id: string, target: ControlTarget): Verdict {
  const s = target.log.state.tasks[id]!;
  switch (s.state) {
    case 'running': {
      const f = target.inFlight.get(id, s.current?.attempt);
      if (f) target.cancel(f);
      return { accepted: true, message: `cancelling attempt ${s.current?.attempt} of ${id}` };
    }
    case 'pending':
    case 'ready':
      target.board.cancelQueued(id);
      return { accepted: true, message: `cancelled ${id}` };
    case 'succeeded':
    case 'failed':
    case 'skipped':
    case 'cancelled':
      return { accepted: false, message: `${id} is already ${s.state}` };
    case 'verifying':
      return {
        accepted: false,
        message: `${id} is merged and waits for the integration check; a failing check sends it back by itself`,
      };
    default:
      return unreachable(s.state, 'task state');
  }
}

function retryTask(id: string, target: ControlTarget): Verdict {
  const s = target.log.state.tasks[id]!;
  if (s.state === 'skipped')
    return {
      accepted: false,
      message: `${id} was skipped because ${s.skipped_because} did not succeed: retry that task`,
    };
  if (s.state !== 'failed' && s.state !== 'cancelled')
    return { accepted: false, message: `${id} is ${s.state}; only failed or cancelled tasks can be retried` };
  const reset = target.board.reset(id);
  return {
    accepted: true,
    message: `retrying ${id}${reset > 1 ? ` and ${reset - 1} skipped dependent(s)` : ''}`,
  };
}
