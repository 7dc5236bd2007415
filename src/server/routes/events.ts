// A run's events as Server-Sent Events.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { readJsonFile } from '../../protocol/files.js';
import { RunPaths } from '../../protocol/paths.js';
import { RunJsonSchema } from '../../protocol/schemas.js';
import { sleep } from '../../util/process.js';
import { placeOf, RunParams, type ServerOptions } from '../context.js';
import { fail } from '../errors.js';
import { RunFeeds } from '../run-feed.js';
import { sendSse } from '../sse.js';

/** How long an event stream waits for a starting run's run.json (its planner may be at work), ms. */
const START_WAIT_MS = 10 * 60_000;

/**
 * Waits until the run `id` of `runsDir` is in place with its run.json; false if the wait ends
 * ({@link START_WAIT_MS}), its directory goes away or the client does.
 */
async function created(runsDir: string, id: string, signal: AbortSignal): Promise<boolean> {
  const deadline = Date.now() + START_WAIT_MS;
  for (let place = placeOf(runsDir, id); !signal.aborted && Date.now() < deadline; place = placeOf(runsDir, id)) {
    if (place.kind !== 'starting') return place.kind === 'run';
    await sleep(100);
  }
  return false;
}

/**
 * `GET /api/runs/:id/events`: every event of the run's events.jsonl after `Last-Event-ID` (or
 * `?after=<seq>`; default from the first), then live ones, until the run finishes or its
 * coordinator is gone (`event: end` with `{reason}`). A run being created is waited for.
 */
export const eventRoutes: FastifyPluginAsyncZod<{ options: ServerOptions }> = async (app, { options }) => {
  const feeds = new RunFeeds(); // one follower per run, shared by its streams
  app.get(
    '/api/runs/:id/events',
    {
      schema: {
        params: RunParams,
        querystring: z.object({ after: z.coerce.number().int().min(0).optional() }),
        headers: z.object({ 'last-event-id': z.coerce.number().int().min(0).optional() }).passthrough(),
      },
    },
    async (req, reply) => {
      const abort = new AbortController();
      reply.raw.on('close', () => abort.abort()); // the client went away
      // A run just started (POST /api/runs answers once its directory exists) is in place, with
      // its run.json, once it is created, after its planner if it has one.
      const starting = placeOf(options.runsDir, req.params.id).kind === 'starting';
      if (starting && !(await created(options.runsDir, req.params.id, abort.signal)))
        return fail(reply, 404, 'unknown-run', `no run ${req.params.id}`);
      const place = placeOf(options.runsDir, req.params.id);
      if (place.kind !== 'run') return fail(reply, 404, 'unknown-run', `no run ${req.params.id}`);
      const paths = new RunPaths(place.dir);
      const run = readJsonFile(paths.runJson, RunJsonSchema);
      if (!run) return fail(reply, 404, 'unknown-run', `no run ${req.params.id}`);
      const after = req.headers['last-event-id'] ?? req.query.after ?? 0;
      const events = feeds.events(paths, after, run.config.liveness.stale_after, abort.signal);
      await sendSse(reply, events, abort, { keepAliveMs: options.keepAliveMs ?? 15_000 });
    },
  );
};
