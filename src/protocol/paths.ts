// Every path into a run directory is built here and nowhere else (docs/protocol.md lists them).
import path from 'node:path';

/** Run-directory layout, protocol version 2 (docs/protocol.md §2). All methods return absolute paths. */
export class RunPaths {
  readonly root: string;

  /** @param root the run directory (made absolute). */
  constructor(root: string) {
    this.root = path.resolve(root);
  }

  get runJson(): string {
    return path.join(this.root, 'run.json');
  }
  get planJson(): string {
    return path.join(this.root, 'plan.json');
  }
  get eventsJsonl(): string {
    return path.join(this.root, 'events.jsonl');
  }
  get stateJson(): string {
    return path.join(this.root, 'state.json');
  }
  get coordinatorJson(): string {
    return path.join(this.root, 'coordinator.json');
  }
  /** The run lock: a directory created atomically by the one live coordinator. */
  get lock(): string {
    return path.join(this.root, 'lock');
  }
  get controlDir(): string {
    return path.join(this.root, 'control');
  }
  get controlDoneDir(): string {
    return path.join(this.root, 'control', 'done');
  }
  controlRequest(id: string): string {
    return path.join(this.controlDir, `${id}.json`);
  }
  controlDone(id: string): string {
    return path.join(this.controlDoneDir, `${id}.json`);
  }
  /** What a run being created will be (only under its temporary name, {@link creatingDir}). */
  get creatingJson(): string {
    return path.join(this.root, 'creating.json');
  }
  /** The planner's requests and answers (planned runs), also when planning failed. */
  /** What publishing the run did (publish.json). */
  get publishJson(): string {
    return path.join(this.root, 'publish.json');
  }
  get plannerJson(): string {
    return path.join(this.root, 'planner.json');
  }
  /** Integration checks' output (`integration.verify`): check-<n>.log per check. */
  get integrationDir(): string {
    return path.join(this.root, 'integration');
  }
  /** The output of integration check `n` (1-based). */
  integrationLog(n: number): string {
    return path.join(this.integrationDir, `check-${n}.log`);
  }
  /** The process group of integration check `n` while it runs (pgid, host, start time). */
  integrationGroup(n: number): string {
    return path.join(this.integrationDir, `check-${n}.group.json`);
  }
  get logsDir(): string {
    return path.join(this.root, 'logs');
  }
  get coordinatorLog(): string {
    return path.join(this.logsDir, 'coordinator.log');
  }
  workerLog(workerId: string): string {
    return path.join(this.logsDir, `worker-${workerId}.log`);
  }
  /** A worker's stderr (crashes before its log opens, warnings of libraries). */
  workerStderr(workerId: string): string {
    return path.join(this.logsDir, `worker-${workerId}.stderr`);
  }

  get workersDir(): string {
    return path.join(this.root, 'workers');
  }
  workerDir(workerId: string): string {
    return path.join(this.workersDir, workerId);
  }
  workerJson(workerId: string): string {
    return path.join(this.workerDir(workerId), 'worker.json');
  }
  /** Maildir inbox of a worker: files are written in tmp/, renamed into new/, claimed into cur/. */
  inbox(workerId: string): { tmp: string; new: string; cur: string } {
    const dir = path.join(this.workerDir(workerId), 'inbox');
    return { tmp: path.join(dir, 'tmp'), new: path.join(dir, 'new'), cur: path.join(dir, 'cur') };
  }

  get tasksDir(): string {
    return path.join(this.root, 'tasks');
  }
  taskDir(taskId: string): string {
    return path.join(this.tasksDir, taskId);
  }
  /** Attempt directories are numbered from 1: tasks/<task-id>/<n>/. */
  attemptDir(taskId: string, attempt: number): string {
    return path.join(this.taskDir(taskId), String(attempt));
  }
  attempt(taskId: string, attempt: number): AttemptPaths {
    const dir = this.attemptDir(taskId, attempt);
    return {
      dir,
      assignment: path.join(dir, 'assignment.json'),
      prompt: path.join(dir, 'prompt.md'),
      status: path.join(dir, 'status.json'),
      events: path.join(dir, 'events.jsonl'),
      stdout: path.join(dir, 'stdout.log'),
      stderr: path.join(dir, 'stderr.log'),
      verify: path.join(dir, 'verify.log'),
      transcript: path.join(dir, 'transcript.jsonl'),
      bash: path.join(dir, 'bash.log'),
      network: path.join(dir, 'network.log'),
      result: path.join(dir, 'result.json'),
    };
  }
}

/** The files of one attempt, all inside tasks/<task-id>/<n>/. */
export interface AttemptPaths {
  dir: string;
  assignment: string;
  prompt: string;
  status: string;
  events: string;
  stdout: string;
  stderr: string;
  /** Output of the task's verify command. */
  verify: string;
  /** Agent backends: every message of the conversation, one JSON per line. */
  transcript: string;
  /** Agent backends: the bash tool's commands and their output. */
  bash: string;
  /** Sandboxes with `allow_hosts`: the filtering proxy's decisions, one line each. */
  network: string;
  result: string;
}

/** Name of the file that marks an attempt finished (its commit point). */
export const RESULT_FILE = 'result.json';

/** What ends the temporary name of a run directory being created. */
const CREATING_SUFFIX = '.creating';

/**
 * The temporary name `swarm run` builds the run directory `root` under, beside it:
 * `<parent>/.<name>.creating`. Renamed to `root` once run.json is written, so a directory at
 * `root` is always complete.
 */
export function creatingDir(root: string): string {
  const abs = path.resolve(root);
  return path.join(path.dirname(abs), `.${path.basename(abs)}${CREATING_SUFFIX}`);
}

/** The name of the run directory a directory entry is the temporary name of (`.<name>.creating` → `<name>`), or undefined. */
export function creatingNameOf(entry: string): string | undefined {
  if (!entry.startsWith('.') || !entry.endsWith(CREATING_SUFFIX)) return undefined;
  const name = entry.slice(1, -CREATING_SUFFIX.length);
  return name === '' ? undefined : name;
}
