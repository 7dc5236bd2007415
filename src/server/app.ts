// The HTTP face of a directory of runs (`swarm serve`), first part: health, the runs, a run's
// status, and its events as Server-Sent Events. It reads run directories like every other reader
// and hosts no coordinator. Built on Fastify with the project's zod schemas for validation.
import { timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { z } from 'zod';
import { statusReport } from '../presenter/status-report.js';
import { known, readAttemptResult, readAttemptStatus } from '../protocol/attempt-files.js';
import { createControlRequest } from '../protocol/control.js';
import { followRun } from '../protocol/follow.js';
import { RunPaths } from '../protocol/paths.js';
import { ControlAction } from '../protocol/schemas.js';
import { TASK_ID_PATTERN } from '../protocol/task-id.js';
import { loadRun, NotARunError } from '../protocol/run-reader.js';
import { formatIssue } from '../config/source.js';
import { checkRunInput } from '../run/create-run.js';
import { sleep } from '../util/process.js';
import { sendEvents } from './sse.js';
import { resumeRunProcess, startRun } from './start-run.js';
import { registerWeb } from './web.js';

/** A run id: a ULID (26 characters of Crockford's base 32), checked before any path is built. */
export const RunIdSchema = z.string().regex(/^[0-9A-HJKMNP-TV-Z]{26}$/, { message: 'a run id is a ULID' });

/** What the server needs. */
export interface ServerOptions {
  /** The directory whose children are run directories, named by run id (absolute). */
  runsDir: string;
  /** When set, every /api request must carry `Authorization: Bearer <token>`. */
  token?: string;
  /** SSE keep-alive comment interval, ms (default 15 s). */
  keepAliveMs?: number;
  /** The repository runs are started in; a config to start is a path inside it (absolute). */
  repo: string;
}

/** An error answer: `{error: {code, message}}`. */
function fail(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return reply.status(status).send({ error: { code, message } });
}

/** How long an event stream waits for a starting run's run.json (its planner may be at work), ms. */
const START_WAIT_MS = 10 * 60_000;

/**
 * Waits until the run directory `dir`, which exists, holds run.json; returns it, or null if the
 * directory does not exist, the wait ends ({@link START_WAIT_MS}) or the client went away.
 */
async function starting(dir: string, signal: AbortSignal): Promise<string | null> {
  if (!fs.existsSync(dir)) return null;
  const deadline = Date.now() + START_WAIT_MS;
  while (!signal.aborted && Date.now() < deadline) {
    if (fs.existsSync(path.join(dir, 'run.json'))) return dir;
    await sleep(100);
  }
  return null;
}

/** Whether `header` is `Bearer <token>`, compared in constant time. */
function bearerMatches(header: string | undefined, token: string): boolean {
  const want = Buffer.from(`Bearer ${token}`);
  const got = Buffer.from(header ?? '');
  return got.length === want.length && timingSafeEqual(got, want);
}

/**
 * Builds the server (not listening yet: call `listen`).
 * Routes: `GET /api/health`; `GET /api/runs?limit=N&before=<id>` (newest first); `GET /api/runs/:id`
 * (what `swarm status --json` prints); `GET /api/runs/:id/events` (SSE from `Last-Event-ID` or
 * `?after=<seq>`); `POST /api/runs` `{config, goal?, workers?}` (201 with the id once the run
 * directory exists; a bad config is a 400 with the located issues, and nothing starts);
 * `GET /api/runs/:id/tasks/:task` (the task, its state, each attempt's status and result);
 * `GET /api/runs/:id/tasks/:task/attempts/:n/log?file=events|stdout|stderr|verify` (the file now);
 * `POST /api/runs/:id/resume` (202 once its coordinator is back; 409 while it runs or once it finished);
 * `GET /api/openapi.json`; `POST /api/runs/:id/control` `{action, task?}` (202 with the request id; the
 * coordinator's `control.applied` event says what came of it). Errors are JSON `{error: {code,
 * message}}`: 400 bad input, 401 no or wrong token, 404 unknown run or task.
 */
export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, bodyLimit: 64 * 1024 }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // The OpenAPI document, made from the routes' zod schemas (GET /api/openapi.json).
  await app.register(swagger, {
    openapi: { info: { title: 'fileswarm', description: 'The runs of a fileswarm runs directory', version: '0.1.0' } },
    transform: jsonSchemaTransform,
  });
  app.setErrorHandler((error: { statusCode?: number; code?: string; message: string }, _req, reply) => {
    const status = error.statusCode ?? 500;
    return fail(reply, status, status === 400 ? 'bad-request' : (error.code ?? 'internal'), error.message);
  });
  app.setNotFoundHandler((req, reply) => fail(reply, 404, 'not-found', `no route ${req.method} ${req.url}`));
  if (options.token) {
    const token = options.token;
    app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
      if (req.url.startsWith('/api/') && !bearerMatches(req.headers.authorization, token))
        return fail(reply, 401, 'unauthorized', 'this server needs `Authorization: Bearer <token>`');
    });
  }

  /** The run directory of a (validated) id, or null if it holds no run. */
  const runDir = (id: string): string | null => {
    const dir = path.join(options.runsDir, id);
    return fs.existsSync(path.join(dir, 'run.json')) ? dir : null;
  };

  app.get('/api/health', async () => ({ ok: true }));

  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  app.get(
    '/api/runs',
    {
      schema: {
        querystring: z.object({
          limit: z.coerce.number().int().min(1).max(200).default(50),
          before: RunIdSchema.optional(),
        }),
      },
    },
    async (req) => {
      let ids: string[] = [];
      try {
        ids = fs.readdirSync(options.runsDir).filter((n) => RunIdSchema.safeParse(n).success);
      } catch {
        // no runs yet
      }
      // ULIDs sort by creation time: newest first.
      ids.sort().reverse();
      const { limit, before } = req.query;
      const from = before ? ids.filter((id) => id < before) : ids;
      const page = from.filter((id) => runDir(id) !== null).slice(0, limit);
      const runs = page.flatMap((id) => {
        try {
          const r = statusReport(loadRun(path.join(options.runsDir, id)));
          return [
            {
              id,
              goal: r.run.goal,
              created_at: r.run.created_at,
              phase: r.phase,
              outcome: r.outcome,
              counts: r.counts,
              total: r.total,
              cost_usd: r.usage?.cost_usd ?? null,
            },
          ];
        } catch {
          return []; // a run directory being created, or broken: `GET /api/runs/:id` says why
        }
      });
      const last = page.at(-1);
      return { runs, next: last && from.indexOf(last) < from.length - 1 ? last : null };
    },
  );

  app.get('/api/runs/:id', { schema: { params: z.object({ id: RunIdSchema }) } }, async (req, reply) => {
    const dir = runDir(req.params.id);
    if (!dir) return fail(reply, 404, 'unknown-run', `no run ${req.params.id}`);
    try {
      return statusReport(loadRun(dir));
    } catch (e) {
      if (e instanceof NotARunError) return fail(reply, 404, 'unknown-run', e.message);
      throw e;
    }
  });

  const TaskParams = z.object({ id: RunIdSchema, task: z.string().regex(TASK_ID_PATTERN) });

  app.get('/api/runs/:id/tasks/:task', { schema: { params: TaskParams } }, async (req, reply) => {
    const dir = runDir(req.params.id);
    if (!dir) return fail(reply, 404, 'unknown-run', `no run ${req.params.id}`);
    const snap = loadRun(dir);
    const task = snap.plan?.tasks.find((t) => t.id === req.params.task);
    const state = snap.state.tasks[req.params.task];
    if (!task || !state) return fail(reply, 404, 'unknown-task', `run ${req.params.id} has no task ${req.params.task}`);
    const attempts = Array.from({ length: state.attempts }, (_, i) => i + 1).map((n) => ({
      attempt: n,
      status: known(readAttemptStatus(snap.paths, task.id, n)) ?? null,
      result: known(readAttemptResult(snap.paths, task.id, n)) ?? null,
      log: `/api/runs/${req.params.id}/tasks/${task.id}/attempts/${n}/log`,
    }));
    return { task, state, attempts };
  });

  app.get(
    '/api/runs/:id/tasks/:task/attempts/:n/log',
    {
      schema: {
        params: TaskParams.extend({ n: z.coerce.number().int().min(1).max(100_000) }),
        querystring: z.object({ file: z.enum(['stdout', 'stderr', 'events', 'verify']).default('events') }),
      },
    },
    async (req, reply) => {
      const dir = runDir(req.params.id);
      if (!dir) return fail(reply, 404, 'unknown-run', `no run ${req.params.id}`);
      const files = new RunPaths(dir).attempt(req.params.task, req.params.n);
      const file = { stdout: files.stdout, stderr: files.stderr, events: files.events, verify: files.verify }[
        req.query.file
      ];
      if (!fs.existsSync(files.dir))
        return fail(reply, 404, 'unknown-attempt', `no attempt ${req.params.n} of ${req.params.task}`);
      // The whole file as it is now ('' when the attempt has not written it): events.jsonl for any
      // backend (messages, tool calls, results, usage), stdout/stderr for commands and CLIs.
      const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
      return reply
        .type(req.query.file === 'events' ? 'application/x-ndjson; charset=utf-8' : 'text/plain; charset=utf-8')
        .send(text);
    },
  );

  app.get(
    '/api/runs/:id/events',
    {
      schema: {
        params: z.object({ id: RunIdSchema }),
        querystring: z.object({ after: z.coerce.number().int().min(0).optional() }),
        headers: z.object({ 'last-event-id': z.coerce.number().int().min(0).optional() }).passthrough(),
      },
    },
    async (req, reply) => {
      const abort = new AbortController();
      reply.raw.on('close', () => abort.abort()); // the client went away
      // A run just started (POST /api/runs answers once its directory exists) writes run.json when
      // it is created, after its planner if it has one: wait for it.
      const dir = runDir(req.params.id) ?? (await starting(path.join(options.runsDir, req.params.id), abort.signal));
      if (!dir) return fail(reply, 404, 'unknown-run', `no run ${req.params.id}`);
      const snap = loadRun(dir);
      const after = req.headers['last-event-id'] ?? req.query.after ?? 0;
      const events = followRun({
        paths: snap.paths,
        from: { seq: after },
        staleAfterMs: snap.run.config.liveness.stale_after,
        signal: abort.signal,
      });
      await sendEvents(reply, events, abort, { keepAliveMs: options.keepAliveMs ?? 15_000 });
    },
  );

  app.post(
    '/api/runs',
    {
      schema: {
        body: z.object({
          config: z.string().min(1).max(4096),
          goal: z.string().min(1).max(20_000).optional(),
          workers: z.number().int().min(1).max(256).optional(),
        }),
      },
    },
    async (req, reply) => {
      const { config, goal, workers } = req.body;
      const configFile = path.resolve(options.repo, config);
      const inside = path.relative(options.repo, configFile);
      if (path.isAbsolute(config) || inside.startsWith('..') || path.isAbsolute(inside))
        return fail(reply, 400, 'bad-config', `the config must be a path inside ${options.repo}, not ${config}`);
      const checked = checkRunInput({
        configFile: inside,
        cwd: options.repo,
        ...(goal ? { goal } : {}),
        ...(workers ? { workers } : {}),
      });
      if (!checked.ok) {
        const f = checked.error;
        return f.kind === 'input'
          ? reply.status(400).send({
              error: { code: 'bad-config', message: f.issues.map(formatIssue).join('\n'), issues: f.issues },
            })
          : fail(reply, 400, f.reason, f.messages.join('\n'));
      }
      const started = await startRun(options, { config: inside, goal, workers });
      if (!started.ok) return fail(reply, 500, 'start-failed', started.error);
      const id = started.value;
      return reply.status(201).send({
        id,
        status: `/api/runs/${id}`,
        events: `/api/runs/${id}/events`,
      });
    },
  );

  app.post('/api/runs/:id/resume', { schema: { params: z.object({ id: RunIdSchema }) } }, async (req, reply) => {
    const dir = runDir(req.params.id);
    if (!dir) return fail(reply, 404, 'unknown-run', `no run ${req.params.id}`);
    const r = statusReport(loadRun(dir));
    if (r.coordinator.liveness === 'alive')
      return fail(reply, 409, 'running', `run ${req.params.id} is running (its coordinator is alive)`);
    if (r.phase === 'finished')
      return fail(reply, 409, 'finished', `run ${req.params.id} has finished (${r.outcome ?? 'no outcome'})`);
    const resumed = await resumeRunProcess(options, req.params.id, dir);
    if (!resumed.ok) return fail(reply, 500, 'resume-failed', resumed.error);
    return reply.status(202).send({ id: req.params.id, events: `/api/runs/${req.params.id}/events` });
  });

  app.post(
    '/api/runs/:id/control',
    {
      schema: {
        params: z.object({ id: RunIdSchema }),
        body: z
          .object({ action: ControlAction, task: z.string().regex(TASK_ID_PATTERN).optional() })
          .refine((b) => (b.action === 'cancel-task' || b.action === 'retry-task') === (b.task !== undefined), {
            message: 'cancel-task and retry-task take a `task`; the other actions take none',
          }),
      },
    },
    async (req, reply) => {
      const dir = runDir(req.params.id);
      if (!dir) return fail(reply, 404, 'unknown-run', `no run ${req.params.id}`);
      const { action, task } = req.body;
      if (task !== undefined && !loadRun(dir).plan?.tasks.some((t) => t.id === task))
        return fail(reply, 404, 'unknown-task', `run ${req.params.id} has no task ${task}`);
      // The coordinator applies it (or rejects it) and says so in the event stream: control.applied
      // with this request id. A run without a coordinator applies it when it is resumed.
      const request = await createControlRequest(new RunPaths(dir), action, task, 'http');
      return reply.status(202).send({ request, action, ...(task ? { task } : {}) });
    },
  );

  await registerWeb(app); // the web page at / (dist/web)
  return app;
}
