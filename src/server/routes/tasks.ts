// A task of a run: its plan entry, state and attempts (each with its result and the diffstat of its
// commit), and an attempt's log, whole or as a live tail.
import fs from 'node:fs';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { diffNumstat, type FileDiffStat } from '../../git/repo.js';
import { known, readAssignment, readAttemptResult, readAttemptStatus } from '../../protocol/attempt-files.js';
import { readJsonFile } from '../../protocol/files.js';
import { RunPaths } from '../../protocol/paths.js';
import { RunJsonSchema } from '../../protocol/schemas.js';
import { loadRun } from '../../protocol/run-reader.js';
import { placeOf, TaskParams, type ServerOptions } from '../context.js';
import { fail } from '../errors.js';
import { followLog } from '../log-follow.js';
import { sendSse } from '../sse.js';

/** The files of an attempt `GET .../log?file=` serves. */
const LogFile = z.enum(['events', 'stdout', 'stderr', 'verify', 'transcript', 'bash']);

/** The diffstat of an attempt's commit against the commit it started from; null without one (or once git lost it). */
async function attemptDiffstat(paths: RunPaths, task: string, n: number, commit: string | null) {
  const assignment = known(readAssignment(paths, task, n));
  if (!commit || !assignment?.git || !assignment.base_commit) return null;
  const run = readJsonFile(paths.runJson, RunJsonSchema);
  if (!run) return null;
  try {
    return await diffNumstat(run.repo, assignment.base_commit, commit);
  } catch {
    return null; // the repository or the commit is gone
  }
}

/**
 * `GET /api/runs/:id/tasks/:task`: `{task, state, attempts: [{attempt, status, result, diffstat,
 * log}]}`; `GET /api/runs/:id/tasks/:task/attempts/:n/log?file=events|stdout|stderr|verify|transcript|bash`: the
 * file as it is now, or with `follow=1` a live SSE tail (`event: output` with the appended text,
 * `id` its end's byte offset for Last-Event-ID, `event: end` once the attempt finished).
 */
export const taskRoutes: FastifyPluginAsyncZod<{ options: ServerOptions }> = async (app, { options }) => {
  app.get('/api/runs/:id/tasks/:task', { schema: { params: TaskParams } }, async (req, reply) => {
    const place = placeOf(options.runsDir, req.params.id);
    if (place.kind !== 'run') return fail(reply, 404, 'unknown-run', `no run ${req.params.id}`);
    const snap = loadRun(place.dir);
    const task = snap.plan?.tasks.find((t) => t.id === req.params.task);
    const state = snap.state.tasks[req.params.task];
    if (!task || !state) return fail(reply, 404, 'unknown-task', `run ${req.params.id} has no task ${req.params.task}`);
    const attempts = await Promise.all(
      Array.from({ length: state.attempts }, (_, i) => i + 1).map(async (n) => {
        const result = known(readAttemptResult(snap.paths, task.id, n)) ?? null;
        const diffstat: FileDiffStat[] | null = await attemptDiffstat(snap.paths, task.id, n, result?.commit ?? null);
        return {
          attempt: n,
          status: known(readAttemptStatus(snap.paths, task.id, n)) ?? null,
          result,
          diffstat,
          log: `/api/runs/${req.params.id}/tasks/${task.id}/attempts/${n}/log`,
        };
      }),
    );
    return { task, state, attempts };
  });

  app.get(
    '/api/runs/:id/tasks/:task/attempts/:n/log',
    {
      schema: {
        params: TaskParams.extend({ n: z.coerce.number().int().min(1).max(100_000) }),
        querystring: z.object({
          file: LogFile.default('events'),
          follow: z.enum(['0', '1']).default('0'),
          after: z.coerce.number().int().min(0).optional(),
        }),
        headers: z.object({ 'last-event-id': z.coerce.number().int().min(0).optional() }).passthrough(),
      },
    },
    async (req, reply) => {
      const { id, task, n } = req.params;
      const place = placeOf(options.runsDir, id);
      if (place.kind !== 'run') return fail(reply, 404, 'unknown-run', `no run ${id}`);
      const paths = new RunPaths(place.dir);
      const files = paths.attempt(task, n);
      if (!fs.existsSync(files.dir)) return fail(reply, 404, 'unknown-attempt', `no attempt ${n} of ${task}`);
      const file = files[req.query.file];
      if (req.query.follow === '1') {
        const abort = new AbortController();
        reply.raw.on('close', () => abort.abort());
        const from = req.headers['last-event-id'] ?? req.query.after ?? 0;
        const finished = (): boolean => fs.existsSync(files.result);
        await sendSse(reply, followLog(file, from, finished, abort.signal), abort, {
          keepAliveMs: options.keepAliveMs ?? 15_000,
        });
        return;
      }
      // The whole file as it is now ('' when the attempt has not written it): events.jsonl for any
      // backend (messages, tool calls, results, usage), stdout/stderr for commands and CLIs, the
      // built-in agent's transcript and bash log.
      const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
      const jsonl = req.query.file === 'events' || req.query.file === 'transcript';
      return reply.type(jsonl ? 'application/x-ndjson; charset=utf-8' : 'text/plain; charset=utf-8').send(text);
    },
  );
};
