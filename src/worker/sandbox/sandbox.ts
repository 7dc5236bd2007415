// An attempt's sandbox: its layout from assignment.json (worktree, repository, run directory,
// `sandbox` settings), the bwrap argv around a command, and the environment inside.
import os from 'node:os';
import path from 'node:path';
import type { Assignment, SandboxSpec } from '../../protocol/schemas.js';
import { CLI_PATH } from '../../util/cli-path.js';
import { err, ok, type Result } from '../../util/result.js';
import { fileURLToPath } from 'node:url';
import { bwrapArgs, findBwrap, PROXY_SOCKET_INSIDE, type SandboxLayout } from './bwrap.js';
import { sandboxEnv } from './environment.js';
import { parseAllowedHost, type AllowedHost } from './allowed-hosts.js';

/** The bridge a sandbox with `allow_hosts` runs its commands under (proxy-bridge.ts, compiled beside this file). */
const BRIDGE = fileURLToPath(new URL('./proxy-bridge.js', import.meta.url));

/** The port the bridge listens on inside a sandbox (its own network namespace: nothing else is there). */
const PROXY_PORT = 3128;

/** The proxy of a sandbox with `allow_hosts`, once started: its socket, and how to stop it. */
interface ProxyHandle {
  socket: string;
  close(): Promise<void>;
}

/**
 * Where the programs an attempt runs live, shown read-only even when they lie under /tmp or the home
 * (a checkout in /tmp, node from nvm under ~/.nvm): node's installation prefix (its global
 * packages included) and fileswarm's own package, whose node_modules holds the agent CLIs it was
 * installed with.
 */
const PROGRAMS = [path.dirname(path.dirname(process.execPath)), path.resolve(path.dirname(CLI_PATH), '..', '..')];

/** A command to start: the executable and its arguments. */
export interface Launch {
  file: string;
  args: string[];
}

/** The sandbox every process of one attempt runs in (assignment.json `sandbox.mode: workspace`). */
export class Sandbox {
  readonly #bwrap: string;
  readonly #layout: Omit<SandboxLayout, 'cwd'>;
  readonly #added: Readonly<Record<string, string>>;
  readonly #allow: readonly AllowedHost[];
  /** Shared with the sandboxes {@link widened} from this one. */
  readonly #proxy: { handle?: ProxyHandle };

  private constructor(
    bwrap: string,
    layout: Omit<SandboxLayout, 'cwd'>,
    added: Readonly<Record<string, string>>,
    allow: readonly AllowedHost[] = [],
    proxy: { handle?: ProxyHandle } = {},
  ) {
    this.#bwrap = bwrap;
    this.#layout = layout;
    this.#added = added;
    this.#allow = allow;
    this.#proxy = proxy;
  }

  /** Whether its network is limited to `allow_hosts`, which needs {@link startProxy} before any command. */
  get needsProxy(): boolean {
    return this.#layout.network === 'none' && this.#allow.length > 0;
  }

  /**
   * Starts the filtering proxy (host-proxy.ts) on a Unix socket under the worker's temporary
   * directory; its decisions go to `logFile`. Its commands then run under the bridge, with
   * HTTP(S)_PROXY pointing at it. Stop it with {@link stopProxy}.
   */
  async startProxy(logFile: string): Promise<void> {
    if (!this.needsProxy || this.#proxy.handle) return;
    const { startHostProxy } = await import('./host-proxy.js');
    const socket = path.join(
      os.tmpdir(),
      `fileswarm-proxy-${process.pid}-${Math.random().toString(36).slice(2, 10)}.sock`,
    );
    this.#proxy.handle = await startHostProxy({ socket, allow: this.#allow, logFile });
  }

  /** Stops the proxy, if it runs. */
  async stopProxy(): Promise<void> {
    const handle = this.#proxy.handle;
    this.#proxy.handle = undefined;
    await handle?.close();
  }

  /** The proxy's socket while it runs and the network is `none`. */
  get #proxySocket(): string | undefined {
    return this.#layout.network === 'none' ? this.#proxy.handle?.socket : undefined;
  }

  /**
   * The sandbox of an attempt; null when its `sandbox.mode` is `none`. Writable: the worktree (git
   * isolation) or the repository (in place); read-only: the repository, its `.git` and the run
   * directory (`SWARM_RUN_DIR`); the private home is at the worker's home directory's path.
   * @returns an error message when bwrap is not on this worker's PATH
   */
  static forAttempt(a: Assignment, PATH = process.env.PATH): Result<Sandbox | null, string> {
    if (a.sandbox.mode === 'none') return ok(null);
    const bwrap = findBwrap(PATH);
    if (!bwrap)
      return err(
        "sandbox.mode is workspace but bubblewrap (bwrap) is not on this worker's PATH: install it (apt-get install bubblewrap)",
      );
    const root = a.git?.worktree ?? (a.task.cwd ? workspaceRoot(a.workspace, a.task.cwd) : a.workspace);
    const repo = a.git?.repo ?? root;
    const runDir = a.env.SWARM_RUN_DIR;
    return ok(
      new Sandbox(
        bwrap,
        {
          home: os.homedir(),
          exposed: [repo, ...(runDir ? [runDir] : []), ...PROGRAMS],
          writable: [root, ...a.sandbox.writable],
          readOnly: [path.join(repo, '.git'), ...(runDir ? [runDir] : [])],
          hidden: a.sandbox.hidden,
          network: a.sandbox.network,
        },
        a.env,
        allowedHosts(a.sandbox.allow_hosts),
      ),
    );
  }

  /**
   * The sandbox of a command the coordinator runs in a directory of the repository (an integration
   * check): like an attempt's, with `root` writable; null when `spec.mode` is `none`.
   * @param env variables given to the command on top of the sandbox's own environment
   * @returns an error message when bwrap is not on the PATH
   */
  static forDirectory(
    spec: SandboxSpec,
    place: { root: string; repo: string; env: Record<string, string> },
    PATH = process.env.PATH,
  ): Result<Sandbox | null, string> {
    if (spec.mode === 'none') return ok(null);
    const bwrap = findBwrap(PATH);
    if (!bwrap)
      return err(
        'sandbox.mode is workspace but bubblewrap (bwrap) is not on the PATH: install it (apt-get install bubblewrap)',
      );
    const runDir = place.env.SWARM_RUN_DIR;
    return ok(
      new Sandbox(
        bwrap,
        {
          home: os.homedir(),
          exposed: [place.repo, ...(runDir ? [runDir] : []), ...PROGRAMS],
          writable: [place.root, ...spec.writable],
          readOnly: [path.join(place.repo, '.git'), ...(runDir ? [runDir] : [])],
          hidden: spec.hidden,
          network: spec.network,
        },
        place.env,
        allowedHosts(spec.allow_hosts),
      ),
    );
  }

  /** The same sandbox with more writable paths and, if given, another network setting (a CLI's home and its model API). */
  widened(more: { writable?: string[]; network?: SandboxLayout['network'] }): Sandbox {
    return new Sandbox(
      this.#bwrap,
      {
        ...this.#layout,
        writable: [...this.#layout.writable, ...(more.writable ?? [])],
        network: more.network ?? this.#layout.network,
      },
      this.#added,
      this.#allow,
      this.#proxy,
    );
  }

  /** Whether its processes have the host's network. */
  get network(): SandboxLayout['network'] {
    return this.#layout.network;
  }

  /** The environment of its processes (see {@link sandboxEnv}), for a command that gets none of its own. */
  env(worker: NodeJS.ProcessEnv = process.env): Record<string, string> {
    const env = sandboxEnv(worker, this.#added, this.#layout.home ?? '/tmp');
    if (!this.#proxySocket) return env;
    // Every spelling tools read; local traffic stays in the sandbox.
    const url = `http://127.0.0.1:${PROXY_PORT}`;
    const noProxy = 'localhost,127.0.0.1,::1';
    return {
      ...env,
      HTTP_PROXY: url,
      HTTPS_PROXY: url,
      http_proxy: url,
      https_proxy: url,
      NO_PROXY: noProxy,
      no_proxy: noProxy,
    };
  }

  /** `bwrap ... -- file args...`: `file` run in the sandbox with `cwd` as its working directory. */
  wrap(file: string, args: readonly string[], cwd: string): Launch {
    const proxySocket = this.#proxySocket;
    const layout = { ...this.#layout, cwd, ...(proxySocket ? { proxySocket } : {}) };
    // With a proxy, the command runs under the bridge that joins 127.0.0.1:3128 inside to the proxy outside.
    const command = proxySocket
      ? [process.execPath, BRIDGE, PROXY_SOCKET_INSIDE, String(PROXY_PORT), '--', file, ...args]
      : [file, ...args];
    return { file: this.#bwrap, args: [...bwrapArgs(layout), ...command] };
  }
}

/** The directory `cwd` (relative) was joined to, to give `workspace`. */
function workspaceRoot(workspace: string, cwd: string): string {
  const depth = path
    .normalize(cwd)
    .split(path.sep)
    .filter((p) => p && p !== '.').length;
  return path.resolve(workspace, ...Array<string>(depth).fill('..'));
}

/** The parsed `allow_hosts` of a sandbox (entries the config check let through; others are dropped). */
function allowedHosts(entries: readonly string[]): AllowedHost[] {
  return entries.map(parseAllowedHost).filter((h): h is AllowedHost => typeof h !== 'string');
}
