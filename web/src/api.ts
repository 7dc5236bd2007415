// The HTTP API of `swarm serve`, as the page calls it: one function per route, every answer
// checked for its status, every error an ApiError with the server's `{error: {code, message}}`.
import type { ConfigIssue, ControlAction, LogFile, RunList, StatusReport, TaskDetail } from './types';

/** A failed request: the HTTP status (0 when the server could not be reached) and the server's error. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Located config issues (a 400 from `POST /api/runs`). */
    readonly issues: ConfigIssue[] = [],
  ) {
    super(message);
  }

  /** The server wants a bearer token this page does not send. */
  get unauthorized(): boolean {
    return this.status === 401;
  }
}

/** What the page says when the server needs a token. */
export const TOKEN_MESSAGE =
  'This server needs a bearer token (swarm serve --token-env). The page sends none: open it on a server bound to 127.0.0.1 without a token.';

/** Sends a request to `path` and returns the response, or throws an ApiError if it is not 2xx. */
async function request(path: string, init: RequestInit = {}): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, 'unreachable', `cannot reach the server: ${(e as Error).message}`);
  }
  if (res.ok) return res;
  let body: { error?: { code?: string; message?: string; issues?: ConfigIssue[] } } = {};
  try {
    body = (await res.json()) as typeof body;
  } catch {
    // not JSON: the status says it
  }
  const e = body.error ?? {};
  throw new ApiError(
    res.status,
    e.code ?? `http-${res.status}`,
    res.status === 401 ? TOKEN_MESSAGE : (e.message ?? res.statusText),
    e.issues ?? [],
  );
}

async function getJson<T>(path: string): Promise<T> {
  return (await (await request(path)).json()) as T;
}

async function postJson<T>(path: string, body?: unknown): Promise<T> {
  const init: RequestInit =
    body === undefined
      ? { method: 'POST' }
      : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
  return (await (await request(path, init)).json()) as T;
}

const run = (id: string): string => `/api/runs/${encodeURIComponent(id)}`;

/** `GET /api/runs`: up to `limit` runs, newest first, older than `before` when given. */
export function listRuns(before?: string, limit = 50): Promise<RunList> {
  const q = new URLSearchParams({ limit: String(limit) });
  if (before) q.set('before', before);
  return getJson(`/api/runs?${q}`);
}

/** `GET /api/runs/:id`: the run's status report. 404 (ApiError) until its run.json exists. */
export function getStatus(id: string): Promise<StatusReport> {
  return getJson(run(id));
}

/** `GET /api/runs/:id/tasks/:task`: the task, its state and its attempts. */
export function getTask(id: string, task: string): Promise<TaskDetail> {
  return getJson(`${run(id)}/tasks/${encodeURIComponent(task)}`);
}

/** `GET .../attempts/:n/log?file=`: the text of one file of an attempt as it is now ('' before it is written). */
export async function getLog(id: string, task: string, attempt: number, file: LogFile): Promise<string> {
  const res = await request(`${run(id)}/tasks/${encodeURIComponent(task)}/attempts/${attempt}/log?file=${file}`);
  return res.text();
}

/**
 * The URL of a live tail of one file of an attempt (Server-Sent Events): `output` messages with the
 * appended text as a JSON string, `id` the byte offset after it, then `end` once the attempt finished.
 */
export function logFollowUrl(id: string, task: string, attempt: number, file: LogFile): string {
  return `${run(id)}/tasks/${encodeURIComponent(task)}/attempts/${attempt}/log?file=${file}&follow=1`;
}

/** `POST /api/runs`: starts a run of a config (a path inside the server's repository); resolves with its id. */
export async function startRun(input: { config: string; goal?: string; workers?: number }): Promise<string> {
  const created = await postJson<{ id: string }>('/api/runs', input);
  return created.id;
}

/** `POST /api/runs/:id/control`: asks the coordinator to apply `action` (202); resolves with the request id. */
export async function control(id: string, action: ControlAction, task?: string): Promise<string> {
  const answer = await postJson<{ request: string }>(`${run(id)}/control`, task ? { action, task } : { action });
  return answer.request;
}

/** `POST /api/runs/:id/resume`: a new coordinator continues the run (202); 409 while it runs or once it finished. */
export async function resumeRun(id: string): Promise<void> {
  await postJson(`${run(id)}/resume`);
}

/** The URL of a run's event stream (Server-Sent Events). */
export function eventsUrl(id: string): string {
  return `${run(id)}/events`;
}
