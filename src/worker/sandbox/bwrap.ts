// The bubblewrap command line of a sandbox: which paths are mounted how, which namespaces are new.
// Flags are bubblewrap 0.8.0's (bwrap(1) of that version; Debian 12's package), checked on it.
import fs from 'node:fs';
import path from 'node:path';

/**
 * What a sandbox looks like from inside, in absolute paths. Everything not named here is the host's
 * file system, read-only.
 */
export interface SandboxLayout {
  /** Where the private home is (an empty tmpfs there; the processes' HOME); null: none (the home is `/`). */
  home: string | null;
  /** Paths shown read-only although under /tmp or the home (the repository, the run directory). */
  exposed: string[];
  /** Writable: the attempt's worktree, a CLI's own home, the settings' `writable`. */
  writable: string[];
  /** Read-only even where they lie inside a writable path (the repository's `.git`, the run directory). */
  readOnly: string[];
  /** Not visible: an empty read-only directory or an empty file in their place (paths that do not exist are skipped). */
  hidden: string[];
  /** `none`: a network namespace of its own (loopback only); `allow`: the host's network. */
  network: 'none' | 'allow';
  /** With network `none` and `allow_hosts`: the host proxy's Unix socket, mounted at {@link PROXY_SOCKET_INSIDE}. */
  proxySocket?: string;
  /** The working directory of the command. */
  cwd: string;
}

/** Where a sandbox with `allow_hosts` finds the host proxy's Unix socket (in its private /tmp). */
export const PROXY_SOCKET_INSIDE = '/tmp/.fileswarm-proxy.sock';

/** Whether `p` is `dir` or below it. */
export function isUnder(p: string, dir: string): boolean {
  return p === dir || p.startsWith(dir === '/' ? '/' : `${dir}/`);
}

/**
 * bwrap's arguments up to and including `--`, for a command to run in `layout`. In order:
 * - `--ro-bind / /`: the host's files, read-only (bwrap remounts every submount read-only too);
 *   `--dev /dev` (a minimal /dev), `--proc /proc` (of the new PID namespace: only the sandbox's
 *   processes); `--tmpfs /tmp` and `--tmpfs <home>`: a private /tmp and home, empty;
 * - `exposed` read-only again where /tmp or the home hid them;
 * - `writable` (`--bind`) and `readOnly` inside them (`--ro-bind`), shallowest first, so a deeper
 *   mount wins: a worktree under a read-only repository is writable, the `.git` of a writable
 *   repository is not;
 * - `hidden`: a directory becomes an empty tmpfs remounted read-only, a file `/dev/null` read-only;
 * - `--unshare-all` (user, IPC, PID, network, UTS, cgroup namespaces), `--share-net` with network
 *   `allow`; `--die-with-parent` (the sandbox is killed with SIGKILL when the process that started
 *   bwrap dies); `--new-session` (no access to the worker's terminal: TIOCSTI); `--chdir`.
 * With the PID namespace, bwrap's first child is the namespace's init: when the command exits or
 * bwrap is killed, the kernel kills every process left in it, whatever session or group it made.
 */
export function bwrapArgs(layout: SandboxLayout): string[] {
  const args = ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp'];
  if (layout.proxySocket && layout.network === 'none') args.push('--bind', layout.proxySocket, PROXY_SOCKET_INSIDE);
  const masks = ['/tmp'];
  if (layout.home && layout.home !== '/') {
    args.push('--tmpfs', layout.home);
    masks.push(layout.home);
  }
  const masked = (p: string): boolean => masks.some((m) => isUnder(p, m));
  for (const p of layout.exposed) if (masked(p) && fs.existsSync(p)) args.push('--ro-bind', p, p);
  const binds = [
    ...layout.writable.map((p) => ({ p, flag: '--bind' })),
    ...layout.readOnly
      .filter((p) => layout.writable.some((w) => isUnder(p, w) && p !== w) && fs.existsSync(p))
      .map((p) => ({ p, flag: '--ro-bind' })),
  ].sort((a, b) => depth(a.p) - depth(b.p));
  for (const { p, flag } of binds) args.push(flag, p, p);
  const shown = [...layout.exposed, ...layout.writable];
  for (const h of layout.hidden) {
    const real = realpath(h);
    if (!real || (masked(real) && !shown.some((s) => isUnder(real, s)))) continue; // absent, or hidden already
    if (fs.statSync(real).isDirectory()) args.push('--tmpfs', real, '--remount-ro', real);
    else args.push('--ro-bind', '/dev/null', real);
  }
  args.push('--unshare-all');
  if (layout.network === 'allow') args.push('--share-net');
  args.push('--die-with-parent', '--new-session', '--chdir', layout.cwd, '--');
  return args;
}

const depth = (p: string): number => p.split('/').filter(Boolean).length;

function realpath(p: string): string | undefined {
  try {
    return fs.realpathSync(p);
  } catch {
    return undefined;
  }
}

/**
 * The bwrap executable: the first `bwrap` on `PATH` that is a file and executable; undefined when
 * there is none.
 */
export function findBwrap(PATH: string | undefined = process.env.PATH): string | undefined {
  for (const dir of (PATH ?? '').split(':')) {
    if (!dir) continue;
    const file = path.join(dir, 'bwrap');
    try {
      fs.accessSync(file, fs.constants.X_OK);
      if (fs.statSync(file).isFile()) return file;
    } catch {
      // not here
    }
  }
  return undefined;
}
