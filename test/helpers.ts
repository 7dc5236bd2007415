// Test fixtures: temporary worlds with a swarm.yaml, and the real CLI started as a subprocess.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

/** The built CLI (`npm test` builds first). */
export const CLI = fileURLToPath(new URL('../dist/src/cli.js', import.meta.url));

/** A temporary directory for one test, removed by `cleanup()`. */
export interface World {
  dir: string;
  /** Writes a file under the world (YAML-stringified if not a string); returns its path. */
  write(name: string, content: unknown): string;
  read(name: string): string;
  /** Absolute path of a name in the world. */
  path(name: string): string;
  cleanup(): void;
}

/** How long a world's cleanup waits for the run's processes to exit on their own, ms. */
const LEAK_GRACE_MS = 5_000;

/**
 * Live processes that belong to a run under `dir`: their command line names it or their working
 * directory is in it (a coordinator, a worker), or their environment's SWARM_RUN_DIR is in it (an
 * attempt's command, whatever group it is in).
 */
export function processesOf(dir: string): number[] {
  const needle = Buffer.from(`\0SWARM_RUN_DIR=${dir}`);
  const out = new Set(processesMatching(dir));
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cwd = fs.readlinkSync(`/proc/${entry}/cwd`);
      if ((cwd === dir || cwd.startsWith(dir + '/')) && processAlive(Number(entry))) out.add(Number(entry));
    } catch {
      // exited, or not ours to read
    }
    try {
      const env = Buffer.concat([Buffer.from([0]), fs.readFileSync(`/proc/${entry}/environ`)]);
      if (env.includes(needle) && processAlive(Number(entry))) out.add(Number(entry));
    } catch {
      // exited, or not ours to read
    }
  }
  out.delete(process.pid);
  return [...out];
}

/** A process's command line, for a message. */
function commandLine(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    return '(exited)';
  }
}

/** Makes a temporary world. */
export function makeWorld(prefix = 'swarm-test-'): World {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
  return {
    dir,
    write(name, content) {
      const file = path.join(dir, name);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, typeof content === 'string' ? content : stringify(content));
      return file;
    },
    read: (name) => fs.readFileSync(path.join(dir, name), 'utf8'),
    path: (name) => path.join(dir, name),
    cleanup: () => {
      // Nothing of a run may outlive it: a coordinator, a worker, an attempt's command. A worker
      // adopted by a resume exits at its next heartbeat after its coordinator, so wait a little
      // before calling what is left a leak.
      const deadline = Date.now() + LEAK_GRACE_MS;
      let left = processesOf(dir);
      while (left.length > 0 && Date.now() < deadline) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
        left = processesOf(dir);
      }
      const described = left.map((pid) => `${pid}: ${commandLine(pid)}`);
      for (const pid of left) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone already
        }
      }
      fs.rmSync(dir, { recursive: true, force: true });
      if (described.length > 0)
        throw new Error(`processes of the test's run outlived it (killed now):\n${described.join('\n')}`);
    },
  };
}

/** What a finished CLI process printed and how it exited. */
export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A running CLI process. */
export interface CliProcess {
  child: ChildProcess;
  /** Everything printed so far. */
  output(): { stdout: string; stderr: string };
  done: Promise<CliResult>;
}

/** Starts `swarm <args>` in `cwd` without waiting for it. */
export function startCli(args: string[], options: { cwd: string; env?: Record<string, string> }): CliProcess {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: options.cwd,
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, output: () => ({ stdout, stderr }), done };
}

/** Runs `swarm <args>` to completion. */
export function runCli(args: string[], options: { cwd: string; env?: Record<string, string> }): Promise<CliResult> {
  return startCli(args, options).done;
}

/** Runs git in `cwd` with a test identity; returns its trimmed stdout. */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', ...args], {
    cwd,
    encoding: 'utf8',
  }).trim();
}

/**
 * A git repository at `<world>/<name>` on branch main with one commit of `files` (path → text);
 * returns its path.
 */
export function makeGitRepo(w: World, files: Record<string, string>, name = 'repo'): string {
  const repo = w.path(name);
  fs.mkdirSync(repo, { recursive: true });
  git(repo, 'init', '-q', '-b', 'main');
  for (const [file, text] of Object.entries(files)) w.write(`${name}/${file}`, text);
  git(repo, 'add', '-A');
  git(repo, 'commit', '-qm', 'initial');
  return repo;
}

/** The run directory a `swarm run` printed. */
export function runDirOf(stdout: string): string {
  const m = /run directory: (.+)/.exec(stdout);
  if (!m) throw new Error(`no run directory in: ${stdout}`);
  return m[1]!.trim();
}

/** Polls `check` every 25 ms until it returns a truthy value; throws after `timeoutMs`. */
export async function waitFor<T>(
  check: () => T | undefined | false | null,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Reads a JSON file. */
export function readJson<T = Record<string, unknown>>(file: string): T {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

/** Reads a JSONL file (ignoring a torn last line). */
export function readJsonlFile<T = Record<string, unknown>>(file: string): T[] {
  const text = fs.readFileSync(file, 'utf8');
  const lines = text.split('\n');
  lines.pop(); // the part after the last newline: empty, or a torn line
  return lines.filter((l) => l.trim()).map((l) => JSON.parse(l) as T);
}

/** Lines of a text file, or [] if it does not exist. */
export function linesOf(file: string): string[] {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

/** True if a process with this pid exists and is not a zombie. */
export function processAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Pids of live processes whose command line contains `needle`. */
export function processesMatching(needle: string): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(needle) && processAlive(Number(entry))) out.push(Number(entry));
    } catch {
      // exited
    }
  }
  return out;
}

/** A random DAG of `n` tasks: each task depends on up to `maxDeps` earlier ones. Deterministic per seed. */
export function randomDag(n: number, seed: number, maxDeps = 3): { id: string; deps: string[] }[] {
  let s = seed >>> 0 || 1;
  const rand = (): number => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
  const tasks: { id: string; deps: string[] }[] = [];
  for (let i = 0; i < n; i++) {
    const deps = new Set<string>();
    const k = i === 0 ? 0 : Math.floor(rand() * (maxDeps + 1));
    for (let j = 0; j < k; j++) deps.add(`t${Math.floor(rand() * i)}`);
    tasks.push({ id: `t${i}`, deps: [...deps] });
  }
  return tasks;
}

/**
 * Pids of live processes whose environment holds `name=value` (read from /proc/<pid>/environ), e.g.
 * `SWARM_RUN_DIR=<run dir>`: every process an attempt started carries it, whatever group it is in.
 */
export function processesWithEnv(name: string, value: string): number[] {
  const needle = Buffer.from(`\0${name}=${value}\0`);
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const env = Buffer.concat([Buffer.from([0]), fs.readFileSync(`/proc/${entry}/environ`)]);
      if (env.includes(needle) && processAlive(Number(entry))) out.push(Number(entry));
    } catch {
      // exited, or not ours to read
    }
  }
  return out;
}

/** Every file under `dir`, recursively (absolute paths). */
export function allFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}
