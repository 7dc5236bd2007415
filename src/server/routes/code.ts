// `POST /code` (and `/api/code`): Tiny Backspace's request, `{repoUrl | repo_url, prompt}`, answered
// with a stream of that service's events, so that a client written for it works unchanged. The run
// is an ordinary fileswarm run of the server's --config on a cached clone of the repository, with
// publishing on; its events are mapped to Tiny Backspace's shapes as they happen:
//
//   start {request_id, timestamp}                   the request is taken
//   progress {stage, message, percentage}           cloning, planning, each task's progress, publishing
//   "AI Message" {message}                          an agent's message (its attempt's events.jsonl)
//   "Tool: <Name>" {command | input}                an agent's tool call
//   pr_created {pr_url, files_changed}              publish.json names the pull request
//   error {message}                                 the run could not start, failed to publish, ...
//   complete {request_id, timestamp}                the end
//
// Each is one `data:` line without an `event:` field, as Tiny Backspace sends them (shapes from its
// README: https://github.com/mrlancelot/tiny-backspace, docs/README_TINYB.md).
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ulid } from 'ulid';
import { z } from 'zod';
import { diffNumstat } from '../../git/repo.js';
import type { SwarmEvent } from '../../protocol/events.js';
import { readJsonFile } from '../../protocol/files.js';
import { EventTail } from '../../protocol/follow.js';
import { RunPaths } from '../../protocol/paths.js';
import { PublishJsonSchema, RunJsonSchema } from '../../protocol/schemas.js';
import { FileTail } from '../../util/file-tail.js';
import { sleep } from '../../util/process.js';
import { lastLines } from '../../util/tail.js';
import type { ServerOptions } from '../context.js';
import { fail } from '../errors.js';
import { inputFile } from '../run-input.js';
import { sendSse, type SseMessage } from '../sse.js';
import { startRun, type Started } from '../start-run.js';

/** How often the run's files are read while it works, ms. */
const POLL_MS = 200;

/** One Tiny Backspace event as an SSE message (no `event:` field: clients read them with `onmessage`). */
const tb = (data: Record<string, unknown>): SseMessage => ({ data: JSON.stringify(data) });

/** An agent's event (its attempt's events.jsonl) as Tiny Backspace shows it; null for the rest. */
function agentMessage(record: unknown): SseMessage | null {
  const e = record as { type?: string; text?: string; name?: string; input?: unknown };
  if (e.type === 'message' && e.text) return tb({ type: 'AI Message', message: e.text });
  if (e.type === 'tool_call' && e.name) {
    const name = e.name.charAt(0).toUpperCase() + e.name.slice(1);
    const input = (e.input ?? {}) as Record<string, unknown>;
    return tb({
      type: `Tool: ${name}`,
      ...(typeof input.command === 'string' ? { command: input.command } : { input }),
    });
  }
  return null;
}

/**
 * The stream of one request: starts the run, then follows its events and its running attempts'
 * events until the `swarm run` process ends (after publishing), then says what came of it.
 */
async function* codeStream(
  options: ServerOptions,
  input: { config: string; repoUrl: string; prompt: string },
  signal: AbortSignal,
): AsyncGenerator<SseMessage, SseMessage, undefined> {
  const requestId = ulid();
  const now = (): string => new Date().toISOString();
  const complete = tb({ type: 'complete', request_id: requestId, timestamp: now() });
  yield tb({ type: 'start', request_id: requestId, timestamp: now() });
  yield tb({ type: 'progress', stage: 'cloning', message: `Fetching ${input.repoUrl}`, percentage: 5 });
  const started = await startRun(options, requestId, {
    config: input.config,
    goal: input.prompt,
    repoUrl: input.repoUrl,
    publish: true,
  });
  if (!started.ok) {
    yield tb({ type: 'error', message: started.error.message });
    return complete;
  }
  const paths = new RunPaths(path.join(options.runsDir, requestId));
  yield tb({ type: 'progress', stage: 'planning', message: 'Planning the work', percentage: 10 });
  yield* followRun(paths, started.value, signal);
  if (signal.aborted) return complete;
  const code = await started.value.exited;
  const published = fs.existsSync(paths.publishJson) ? readJsonFile(paths.publishJson, PublishJsonSchema) : undefined;
  if (published?.pull) {
    const run = readJsonFile(paths.runJson, RunJsonSchema);
    let files = 0;
    try {
      files = run?.base_commit ? (await diffNumstat(run.repo, run.base_commit, published.commit)).length : 0;
    } catch {
      // the clone's commit is gone: leave it at 0
    }
    yield tb({ type: 'pr_created', pr_url: published.pull.url, files_changed: files });
  } else {
    const why = lastLines(started.value.logFile, 3).join(' / ');
    yield tb({ type: 'error', message: `no pull request (swarm run exited ${code}): ${why}` });
  }
  return tb({ type: 'complete', request_id: requestId, timestamp: now() });
}

/** The run's events and its agents' as Tiny Backspace events, until run.finished or the process's end. */
async function* followRun(paths: RunPaths, started: Started, signal: AbortSignal): AsyncGenerator<SseMessage> {
  let ended = false;
  void started.exited.then(() => (ended = true));
  while (!fs.existsSync(paths.runJson)) {
    if (ended || signal.aborted) return;
    await sleep(POLL_MS);
  }
  const events = new EventTail(paths.eventsJsonl, { offset: 0 });
  const attempts = new Map<string, FileTail>();
  let total = 0;
  let done = 0;
  for (;;) {
    const last = ended; // read once more after the process ended
    const batch: SwarmEvent[] = events.read();
    for (const e of batch) {
      if (e.type === 'plan.created') {
        total = e.tasks.length;
        yield tb({ type: 'progress', stage: 'running', message: `${total} task(s) planned`, percentage: 15 });
      } else if (e.type === 'attempt.started') {
        attempts.set(`${e.task}/${e.attempt}`, new FileTail(paths.attempt(e.task, e.attempt).events));
        yield tb({ type: 'progress', stage: 'running', message: `Task ${e.task}: attempt ${e.attempt} started` });
      } else if (
        e.type === 'task.succeeded' ||
        e.type === 'task.failed' ||
        e.type === 'task.skipped' ||
        e.type === 'task.cancelled'
      ) {
        done++;
        const percentage = total > 0 ? Math.round(15 + (70 * done) / total) : undefined;
        yield tb({ type: 'progress', stage: 'running', message: `Task ${e.task}: ${e.type.slice(5)}`, percentage });
      } else if (e.type === 'run.finished') {
        yield tb({
          type: 'progress',
          stage: 'publishing',
          message: `The run ${e.outcome}: publishing`,
          percentage: 90,
        });
      }
    }
    for (const tail of attempts.values()) {
      for (const line of tail.read()) {
        let record: unknown;
        try {
          record = JSON.parse(line);
        } catch {
          continue;
        }
        const m = agentMessage(record);
        if (m) yield m;
      }
    }
    if (last || signal.aborted) return;
    await sleep(POLL_MS);
  }
}

/** The body Tiny Backspace takes. */
const CodeBody = z
  .object({
    repoUrl: z.string().min(1).max(2048).optional(),
    repo_url: z.string().min(1).max(2048).optional(),
    prompt: z.string().min(1).max(20_000),
  })
  .refine((b) => (b.repoUrl ?? b.repo_url) !== undefined, { message: 'repoUrl (or repo_url) is required' });

/**
 * `POST /code` and `POST /api/code`: see the file comment. 400 before the stream starts for a bad
 * body or a server without --config; everything after is in the stream.
 */
export const codeRoutes: FastifyPluginAsyncZod<{ options: ServerOptions }> = async (app, { options }) => {
  for (const url of ['/code', '/api/code'])
    app.post(
      url,
      {
        schema: { body: CodeBody },
        config: { rateLimit: { max: options.startsPerMinute ?? 10, timeWindow: 60_000 } },
      },
      async (req, reply) => {
        if (options.defaultConfig === undefined)
          return fail(reply, 400, 'no-config', 'this server has no --config: start it with the config /code runs');
        const config = inputFile(options.defaultConfig, 'config', options, 'code');
        if (!config.ok) return fail(reply, 400, 'bad-config', config.error);
        const repoUrl = (req.body.repoUrl ?? req.body.repo_url)!;
        const abort = new AbortController();
        reply.raw.on('close', () => abort.abort());
        await sendSse(
          reply,
          codeStream(options, { config: config.value.file, repoUrl, prompt: req.body.prompt }, abort.signal),
          abort,
          {
            keepAliveMs: options.keepAliveMs ?? 15_000,
          },
        );
      },
    );
};
