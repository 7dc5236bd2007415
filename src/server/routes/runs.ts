// The runs: listing them, one run's status, starting a run and resuming one.
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { decodeTime, ulid } from 'ulid';
import { z } from 'zod';
import { formatIssue } from '../../config/source.js';
import { statusReport, type StatusReport } from '../../presenter/status-report.js';
import { creatingNameOf } from '../../protocol/paths.js';
import { loadRun, NotARunError } from '../../protocol/run-reader.js';
import { checkRunInput } from '../../run/create-run.js';
import { placeOf, RunIdSchema, RunParams, type ServerOptions } from '../context.js';
import { fail } from '../errors.js';
import { discardInline, inputFile, renameIssues, type InputFile } from '../run-input.js';
import { resumeRunProcess, startRun } from '../start-run.js';

/** A line of `GET /api/runs`. */
export interface RunSummary {
  id: string;
  goal: string | null;
  /** ISO time. */
  created_at: string;
  /** `starting` while `swarm run` creates it (its planner may be at work), then the status's phase. */
  phase: string;
  outcome: string | null;
  /** Tasks by state. */
  counts: Record<string, number>;
  total: number;
  /** USD so far; null when no agent reported any. */
  cost_usd: number | null;
}

/** The status of a run being created: no tasks yet, nothing ran. */
function startingReport(id: string, dir: string): StatusReport {
  return {
    run: { id, goal: null, dir, created_at: new Date(decodeTime(id)).toISOString() },
    phase: 'starting',
    outcome: null,
    coordinator: { liveness: 'starting', pid: null, host: null, heartbeat_at: null },
    resume_command: null,
    counts: {},
    total: 0,
    elapsed_ms: null,
    usage: null,
    budget: null,
    git: null,
    integration: null,
    tasks: [],
  };
}

/** The status of the run `id`, or null when there is none (or its directory is gone or broken). */
function reportOf(runsDir: string, id: string): StatusReport | null {
  const place = placeOf(runsDir, id);
  try {
    if (place.kind === 'run') return statusReport(loadRun(place.dir));
    if (place.kind === 'starting') return startingReport(id, place.dir);
  } catch (e) {
    if (!(e instanceof NotARunError) && (e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  return null;
}

/** A body of `POST /api/runs`. */
const StartBody = z.object({
  config: z
    .string()
    .min(1)
    .max(512 * 1024)
    .optional()
    .describe('a path inside the repository, or the YAML itself (text with a newline); default: the server’s --config'),
  plan: z
    .string()
    .min(1)
    .max(512 * 1024)
    .optional()
    .describe('tasks instead of the config’s: a path inside the repository, or YAML or JSON text with a newline'),
  goal: z.string().min(1).max(20_000).optional(),
  prompt: z.string().min(1).max(20_000).optional().describe('the same as goal'),
  workers: z.number().int().min(1).max(256).optional(),
  repo_url: z.string().min(1).max(2048).optional().describe('work on a cached clone of this git URL'),
  issue: z.string().min(1).max(2048).optional().describe('the goal is this issue (owner/repo#N or its URL)'),
  base: z.string().min(1).max(255).optional().describe('with repo_url or issue: the branch to start from'),
  publish: z.boolean().optional().describe('push the integration branch and open a pull request at the end'),
});

/**
 * `GET /api/runs?limit=N&before=<id>` (newest first), `GET /api/runs/:id` (what `swarm status
 * --json` prints; phase `starting` while the run is being created), `POST /api/runs` (201 once the
 * run directory exists; 400 with located issues and nothing started; 429 over the rate limit) and
 * `POST /api/runs/:id/resume` (202 once a coordinator holds it; 409 while one does or once finished).
 */
export const runRoutes: FastifyPluginAsyncZod<{ options: ServerOptions }> = async (app, { options }) => {
  const { runsDir } = options;

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
        // A run being created is still under its temporary name (`.<id>.creating`).
        const names = fs.readdirSync(runsDir).map((n) => creatingNameOf(n) ?? n);
        ids = [...new Set(names)].filter((n) => RunIdSchema.safeParse(n).success);
      } catch {
        // no runs yet
      }
      ids.sort().reverse(); // ULIDs sort by creation time: newest first
      const { limit, before } = req.query;
      const from = before ? ids.filter((id) => id < before) : ids;
      const runs: RunSummary[] = [];
      let last: string | undefined;
      for (const id of from) {
        if (runs.length === limit) break;
        last = id;
        const r = reportOf(runsDir, id);
        if (!r) continue; // gone meanwhile, or broken: `GET /api/runs/:id` says why
        runs.push({
          id,
          goal: r.run.goal,
          created_at: r.run.created_at,
          phase: r.phase,
          outcome: r.outcome,
          counts: r.counts,
          total: r.total,
          cost_usd: r.usage?.cost_usd ?? null,
        });
      }
      return { runs, next: last && from.indexOf(last) < from.length - 1 ? last : null };
    },
  );

  app.get('/api/runs/:id', { schema: { params: RunParams } }, async (req, reply) => {
    const r = reportOf(runsDir, req.params.id);
    return r ?? fail(reply, 404, 'unknown-run', `no run ${req.params.id}`);
  });

  app.post(
    '/api/runs',
    { schema: { body: StartBody }, config: { rateLimit: { max: options.startsPerMinute ?? 10, timeWindow: 60_000 } } },
    async (req, reply) => {
      const { workers, repo_url: repoUrl, issue, base, publish } = req.body;
      const goal = req.body.goal ?? req.body.prompt;
      if (req.body.goal !== undefined && req.body.prompt !== undefined)
        return fail(reply, 400, 'bad-request', 'give `goal` or `prompt`, not both');
      if (issue !== undefined && goal !== undefined)
        return fail(reply, 400, 'bad-request', 'give a goal or an `issue`, not both (the issue is the goal)');
      if (repoUrl !== undefined && !/^(https?|ssh|git|file):\/\/|^[^/\s]+@[^:\s]+:/.test(repoUrl))
        return fail(reply, 400, 'bad-request', '`repo_url` must be an http(s), ssh, git or file URL');
      const configValue = req.body.config ?? options.defaultConfig;
      if (configValue === undefined)
        return fail(reply, 400, 'bad-request', 'the body needs `config` (this server has no --config)');
      const id = ulid();
      const files: InputFile[] = [];
      const configFile = inputFile(configValue, 'config', options, id);
      if (!configFile.ok) return fail(reply, 400, 'bad-config', configFile.error);
      files.push(configFile.value);
      let planFile: InputFile | undefined;
      if (req.body.plan !== undefined) {
        const p = inputFile(req.body.plan, 'plan', options, id);
        if (!p.ok) {
          discardInline(files);
          return fail(reply, 400, 'bad-plan', p.error);
        }
        planFile = p.value;
        files.push(planFile);
      }
      const checked = checkRunInput({
        configFile: configFile.value.file,
        cwd: options.repo,
        ...(planFile ? { plan: planFile.file } : {}),
        ...(goal ? { goal } : {}),
        ...(workers ? { workers } : {}),
      });
      let refusal: { code: string; message: string; issues?: ReturnType<typeof renameIssues> } | undefined;
      if (!checked.ok) {
        const f = checked.error;
        if (f.kind === 'input') {
          const issues = renameIssues(f.issues, files);
          refusal = { code: 'bad-config', message: issues.map(formatIssue).join('\n'), issues };
        } else refusal = { code: f.reason, message: f.messages.join('\n') };
      } else if (configFile.value.inline && path.resolve(checked.value.repo) !== path.resolve(options.repo)) {
        refusal = {
          code: 'bad-config',
          message: `an inline config runs in the server's repository (${options.repo}): leave out run.repo`,
        };
      }
      if (refusal) {
        discardInline(files);
        return fail(reply, 400, refusal.code, refusal.message, refusal.issues);
      }
      const started = await startRun(options, id, {
        config: configFile.value.file,
        ...(planFile ? { plan: planFile.file } : {}),
        goal,
        workers,
        repoUrl,
        issue,
        base,
        publish,
      });
      if (!started.ok) {
        discardInline(files);
        // Exit 2: refused before any work (a repository or issue that is not there, a token
        // without the rights): the request's fault, not the server's.
        const refusedStart = started.error.exit === 2;
        return fail(
          reply,
          refusedStart ? 400 : 500,
          refusedStart ? 'cannot-start' : 'start-failed',
          started.error.message,
        );
      }
      return reply.status(201).send({ id, status: `/api/runs/${id}`, events: `/api/runs/${id}/events` });
    },
  );

  app.post('/api/runs/:id/resume', { schema: { params: RunParams } }, async (req, reply) => {
    const { id } = req.params;
    const place = placeOf(runsDir, id);
    if (place.kind === 'none') return fail(reply, 404, 'unknown-run', `no run ${id}`);
    if (place.kind === 'starting') return fail(reply, 409, 'starting', `run ${id} is being created`);
    const r = statusReport(loadRun(place.dir));
    if (r.coordinator.liveness === 'alive')
      return fail(reply, 409, 'running', `run ${id} is running (its coordinator is alive)`);
    if (r.phase === 'finished')
      return fail(reply, 409, 'finished', `run ${id} has finished (${r.outcome ?? 'no outcome'})`);
    const resumed = await resumeRunProcess(options, id, place.dir);
    if (!resumed.ok) return fail(reply, 500, 'resume-failed', resumed.error);
    return reply.status(202).send({ id, events: `/api/runs/${id}/events` });
  });
};
