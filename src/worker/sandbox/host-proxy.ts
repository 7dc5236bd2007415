// The filtering proxy of a sandbox with `allow_hosts`: an HTTP proxy (plain requests and CONNECT
// tunnels, so HTTPS stays end-to-end encrypted) run by the worker, outside the sandbox, on a Unix
// socket that is mounted into it (forwarded to the proxy on the host's loopback). It lets through
// only the listed hosts; everything else gets 403.
// The proxy itself is proxy-chain's (Apify, 3.x); this file is the allowlist and its log.
import fs from 'node:fs';
import net from 'node:net';
import { RequestError, Server } from 'proxy-chain';
import { hostAllowed, type AllowedHost } from './allowed-hosts.js';
import { joinSockets } from './join-sockets.js';

/** A proxy started by {@link startHostProxy}. */
export interface HostProxy {
  /** The Unix socket it listens on. */
  socket: string;
  close(): Promise<void>;
}

/**
 * Starts the proxy on the Unix socket `socket` (replaced if it exists), allowing `allow` only.
 * Each decision is appended to `logFile` (`allowed host:port` / `refused host:port`).
 */
export async function startHostProxy(options: {
  socket: string;
  allow: readonly AllowedHost[];
  logFile: string;
}): Promise<HostProxy> {
  fs.rmSync(options.socket, { force: true });
  const log = (line: string): void => {
    try {
      fs.appendFileSync(options.logFile, `${new Date().toISOString()} ${line}\n`);
    } catch {
      // the attempt directory is gone: nothing to record
    }
  };
  const server = new Server({
    // On the host's loopback: proxy-chain drops connections without a remote address, which a Unix
    // socket's are, so the socket below forwards to it.
    port: 0,
    host: '127.0.0.1',
    prepareRequestFunction: ({ hostname, port }) => {
      if (hostAllowed(options.allow, hostname, port)) {
        log(`allowed ${hostname}:${port}`);
        return {};
      }
      log(`refused ${hostname}:${port}`);
      throw new RequestError(
        `fileswarm's sandbox does not allow ${hostname}:${port} (not in sandbox.allow_hosts)`,
        403,
      );
    },
  });
  await server.listen();
  const forward = net.createServer((inside) => joinSockets(inside, net.connect(server.port, '127.0.0.1')));
  await new Promise<void>((resolve, reject) => {
    forward.once('error', reject);
    forward.listen(options.socket, resolve);
  });
  return {
    socket: options.socket,
    close: async () => {
      await new Promise<void>((resolve) => forward.close(() => resolve()));
      await server.close(true);
      fs.rmSync(options.socket, { force: true });
    },
  };
}
