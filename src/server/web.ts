// The web page of `swarm serve`: the single-page app built from web/ into dist/web (`npm run
// build`), served at /. Its own routes (/runs/<id>) are the page's too: any GET outside /api/ and
// /assets/ that is no file answers index.html, and the page reads the address.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * Where the built page is: dist/web of the package. This module runs as dist/src/server/web.js
 * (built) or src/server/web.ts (tests run from source); either way the page is in dist/web.
 */
export const WEB_DIR = ((): string => {
  const top = path.resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
  return path.basename(top) === 'dist' ? path.join(top, 'web') : path.join(top, 'dist', 'web');
})();

/** Whether a request path is the API's or an asset's (never answered with the page). */
function notPage(url: string): boolean {
  return url === '/api' || url.startsWith('/api/') || url.startsWith('/assets/');
}

/**
 * Serves the page in `dir` (default {@link WEB_DIR}) on `app`: its files as they are (hashed
 * assets cached for a year, index.html never cached), and index.html for `GET /` and every other
 * GET that is not under /api/ or /assets/ (the page's own routes, such as /runs/<id>). When `dir`
 * holds no index.html (the page was not built), those GETs are a 404 `{error: {code:
 * 'no-web-page', message}}` that says how to build it; the API is unaffected either way. Unknown
 * /api/ and /assets/ paths keep the server's 404.
 */
export async function registerWeb(app: FastifyInstance, dir: string = WEB_DIR): Promise<void> {
  const built = fs.existsSync(path.join(dir, 'index.html'));
  await app.register(async (scope) => {
    if (built)
      await scope.register(fastifyStatic, {
        root: dir,
        wildcard: false,
        setHeaders: (reply, file) => {
          const page = path.basename(file) === 'index.html';
          reply.header('cache-control', page ? 'no-cache' : 'public, max-age=31536000, immutable');
        },
      });
    const page = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
      if (notPage(req.url)) {
        reply.callNotFound();
        return reply;
      }
      if (!built)
        return reply.status(404).send({
          error: {
            code: 'no-web-page',
            message: `the web page is not built (no ${path.join(dir, 'index.html')}): run \`npm run build\`; the API is at /api/runs`,
          },
        });
      return reply.sendFile('index.html');
    };
    if (!built) scope.get('/', { schema: { hide: true } }, page);
    scope.get('/*', { schema: { hide: true } }, page);
  });
}
