// Steering a run: control requests for its coordinator.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { statusReport } from '../../presenter/status-report.js';
import { createControlRequest } from '../../protocol/control.js';
import { RunPaths } from '../../protocol/paths.js';
import { loadRun } from '../../protocol/run-reader.js';
import { ControlAction } from '../../protocol/schemas.js';
import { TASK_ID_PATTERN } from '../../protocol/task-id.js';
import { placeOf, RunParams, type ServerOptions } from '../context.js';
import { fail } from '../errors.js';

/**
 * `POST /api/runs/:id/control` `{action, task?}`: 202 with the request id once the request is in
 * the run directory; the coordinator's `control.applied` event says what came of it. A run without
 * a coordinator applies it when it is resumed. 404 for an unknown run or task, 409 for a finished run.
 */
export const controlRoutes: FastifyPluginAsyncZod<{ options: ServerOptions }> = async (app, { options }) => {
  app.post(
    '/api/runs/:id/control',
    {
      schema: {
        params: RunParams,
        body: z
          .object({
            action: ControlAction,
            task: z.string().regex(TASK_ID_PATTERN, { message: 'not a task id' }).optional(),
          })
          .refine((b) => (b.action === 'cancel-task' || b.action === 'retry-task') === (b.task !== undefined), {
            message: 'cancel-task and retry-task take a `task`; the other actions take none',
          }),
      },
    },
    async (req, reply) => {
      const place = placeOf(options.runsDir, req.params.id);
      if (place.kind !== 'run') return fail(reply, 404, 'unknown-run', `no run ${req.params.id}`);
      const { action, task } = req.body;
      const snap = loadRun(place.dir);
      if (task !== undefined && !snap.plan?.tasks.some((t) => t.id === task))
        return fail(reply, 404, 'unknown-task', `run ${req.params.id} has no task ${task}`);
      const { phase, outcome } = statusReport(snap);
      if (phase === 'finished')
        return fail(
          reply,
          409,
          'finished',
          `run ${req.params.id} has finished (${outcome ?? 'no outcome'}): nothing to steer`,
        );
      const request = await createControlRequest(new RunPaths(place.dir), action, task, 'http');
      return reply.status(202).send({ request, action, ...(task ? { task } : {}) });
    },
  );
};
