// `swarm serve`: the runs under a directory over HTTP (src/server/), until Ctrl-C or SIGTERM.
import fs from 'node:fs';
import path from 'node:path';
import type { Output } from '../presenter/console.js';
import { EXIT } from '../run/exit-codes.js';
import { buildServer } from '../server/app.js';

/** The options of `swarm serve`. */
export interface ServeOptions {
  host: string;
  port: number;
  /** The directory of run directories (default `.swarm/runs` under the current directory, the repository runs are started in). */
  runsDir?: string;
  /** The config POST /api/runs starts when a request names none, relative to the repository. */
  config?: string;
  /** The variable holding the bearer token; required to bind an address other than loopback. */
  tokenEnv?: string;
  /** Origins whose pages may call the API (CORS); none: CORS off. */
  corsOrigin?: string[];
  /** Runs one client may start per minute. */
  startsPerMinute: number;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/**
 * Serves until a signal; exit 0 when stopped, 2 when it cannot start (a non-loopback address
 * without a token, the token's variable unset, --config missing, the port taken).
 */
export async function serveCommand(options: ServeOptions, out: Output, err: Output): Promise<number> {
  let token: string | undefined;
  if (options.tokenEnv !== undefined) {
    token = process.env[options.tokenEnv];
    if (!token) {
      err.write(`swarm: --token-env ${options.tokenEnv}: the variable is not set\n`);
      return EXIT.cannotStart;
    }
  } else if (!LOOPBACK.has(options.host)) {
    err.write(
      `swarm: serving on ${options.host} needs a bearer token: --token-env NAME (the variable holding it); without one, serve on 127.0.0.1\n`,
    );
    return EXIT.cannotStart;
  }
  const runsDir = path.resolve(options.runsDir ?? path.join('.swarm', 'runs'));
  const repo = process.cwd();
  if (options.config !== undefined && !fs.existsSync(path.resolve(repo, options.config))) {
    err.write(`swarm: --config ${options.config}: no such file in ${repo}\n`);
    return EXIT.cannotStart;
  }
  const app = await buildServer({
    runsDir,
    repo,
    startsPerMinute: options.startsPerMinute,
    ...(options.config !== undefined ? { defaultConfig: options.config } : {}),
    ...(options.corsOrigin ? { corsOrigins: options.corsOrigin } : {}),
    ...(token ? { token } : {}),
  });
  try {
    await app.listen({ host: options.host, port: options.port });
  } catch (e) {
    err.write(`swarm: cannot serve on ${options.host}:${options.port}: ${(e as Error).message}\n`);
    return EXIT.cannotStart;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  out.write(
    `serving the runs in ${runsDir} at http://${options.host}:${port}/ (API: /api/runs)${token ? ' (bearer token required)' : ''}\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await app.close();
  return EXIT.succeeded;
}
