// Runs inside a sandbox with `allow_hosts`, as the parent of the sandboxed command:
//   node proxy-bridge.js <unix-socket> <port> -- <file> [args...]
// It listens on 127.0.0.1:<port> in the sandbox's own network namespace (loopback only) and joins
// each connection to the host proxy's Unix socket (host-proxy.ts), then runs the command with the
// same stdio and exits as it does. Node built-ins only (join-sockets.ts too): it starts on every
// sandboxed command.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { joinSockets } from './join-sockets.js';

const [socket, portText, dashes, file, ...args] = process.argv.slice(2);
if (!socket || !portText || dashes !== '--' || !file) {
  process.stderr.write('usage: proxy-bridge <unix-socket> <port> -- <file> [args...]\n');
  process.exit(2);
}

const server = net.createServer((inside) => joinSockets(inside, net.connect(socket)));
server.on('error', (e) => {
  process.stderr.write(`fileswarm proxy bridge: ${e.message}\n`);
  process.exit(125);
});
server.listen(Number(portText), '127.0.0.1', () => {
  const child = spawn(file, args, { stdio: 'inherit' });
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => child.kill(signal));
  child.on('error', (e) => {
    process.stderr.write(`fileswarm proxy bridge: cannot start ${file}: ${e.message}\n`);
    process.exit(127);
  });
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    }
    process.exit(code ?? 1);
  });
});
