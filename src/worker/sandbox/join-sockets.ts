// Joining two sockets both ways, as the sandbox's proxy path does twice (the bridge inside, the
// Unix socket outside). Node built-ins only: the bridge loads it on every sandboxed command.
import type net from 'node:net';

/** Pipes `a` into `b` and `b` into `a`; an error on either destroys both. */
export function joinSockets(a: net.Socket, b: net.Socket): void {
  a.pipe(b).pipe(a);
  const end = (): void => {
    a.destroy();
    b.destroy();
  };
  a.on('error', end);
  b.on('error', end);
}
