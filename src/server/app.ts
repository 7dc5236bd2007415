// The HTTP face of a directory of runs (`swarm serve`): it reads run directories like every other
// reader, starts each run as its own `swarm run` process, and hosts no coordinator. Fastify with the
// project's zod schemas for validation and the OpenAPI document; the routes live in routes/.
import { timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { ServerOptions } from './context.js';
import { fail, handleError } from './errors.js';
import { codeRoutes } from './routes/code.js';
import { controlRoutes } from './routes/control.js';
import { eventRoutes } from './routes/events.js';
import { runRoutes } from './routes/runs.js';
import { taskRoutes } from './routes/tasks.js';
import { registerWeb } from './web.js';

export { RunIdSchema, type ServerOptions } from './context.js';

/** The largest request body, bytes (an inline config or plan of a few thousand tasks fits). */
export const BODY_LIMIT = 1024 * 1024;

/** Whether `header` is `Bearer <token>`, compared in constant time. */
function bearerMatches(header: string | undefined, token: string): boolean {
  const want = Buffer.from(`Bearer ${token}`);
  const got = Buffer.from(header ?? '');
  return got.length === want.length && timingSafeEqual(got, want);
}

/**
 * Builds the server (not listening yet: call `listen`). Routes: `GET /api/health`,
 * `GET /api/openapi.json`, the runs (routes/runs.ts), a run's events (routes/events.ts), its tasks
 * and their logs (routes/tasks.ts), control requests (routes/control.ts). Every error is JSON
 * `{error: {code, message, issues?}}`: 400 bad input, 401 no or wrong token, 404 unknown run or task,
 * 409 a run running or finished, 413 a body over {@link BODY_LIMIT}, 429 too many runs started.
 */
export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, bodyLimit: BODY_LIMIT }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((req, reply) => fail(reply, 404, 'not-found', `no route ${req.method} ${req.url}`));
  // The OpenAPI document, made from the routes' zod schemas (GET /api/openapi.json).
  await app.register(swagger, {
    openapi: { info: { title: 'fileswarm', description: 'The runs of a fileswarm runs directory', version: '0.1.0' } },
    transform: jsonSchemaTransform,
  });
  if (options.token) {
    const token = options.token;
    app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
      if (req.url.startsWith('/api/') && !bearerMatches(req.headers.authorization, token))
        return fail(reply, 401, 'unauthorized', 'this server needs `Authorization: Bearer <token>`');
    });
  }
  // Off unless origins are listed: a page on another origin cannot call the API.
  if (options.corsOrigins?.length) await app.register(cors, { origin: options.corsOrigins });
  // Per route (run creation); the rest of the API is reads and cheap writes.
  await app.register(rateLimit, { global: false });

  app.get('/api/health', async () => ({ ok: true }));
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await app.register(runRoutes, { options });
  await app.register(eventRoutes, { options });
  await app.register(taskRoutes, { options });
  await app.register(controlRoutes, { options });
  await app.register(codeRoutes, { options });
  await registerWeb(app); // the page at / (web/, built into dist/web)
  return app;
}
