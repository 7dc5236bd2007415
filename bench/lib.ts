// Shared helpers of the benchmarks: seeded random DAGs, running `swarm run` as a child process
// (wall time, peak RSS from /proc), reading a run directory's events, and small statistics.
// Every benchmark compares against a reference measured in the same process run, because the
// machine is shared and noisy: absolute numbers drift, ratios much less.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The compiled sources (`dist/src/`), next to this file's compiled form (`dist/bench/lib.js`). */
const DIST_SRC = fileURLToPath(new URL('../src/', import.meta.url));
/** The repository root (for its node_modules and package.json). */
const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** The CLI the benchmarks run: a snapshot of `dist/src/cli.js` (see {@link requireBuild}). */
export let CLI = path.join(DIST_SRC, 'cli.js');

/** Where raw results go: `bench/out/` in the source tree (git-ignored). */
export const OUT_DIR = fileURLToPath(new URL('../../bench/out/', import.meta.url));

// ---------------------------------------------------------------------------------------------
// Results

/** One number a benchmark reports, with its target if it has one. */
export interface Metric {
  name: string;
  value: number;
  unit: string;
  /** The goal, if any: `value` must be `<=` it (all our targets are upper bounds). */
  target?: number;
  /** Undefined when there is no target. */
  met?: boolean;
}

/** What a benchmark returns: headline metrics, notes for the reader, and everything raw. */
export interface BenchResult {
  name: string;
  description: string;
  params: Record<string, unknown>;
  metrics: Metric[];
  notes: string[];
  raw: unknown;
  elapsedMs: number;
}

/** Options every benchmark takes. */
export interface BenchOptions {
  /** Fewer and smaller runs, for development; final numbers must not use it. */
  quick: boolean;
  /** Keep temporary directories (run directories, Makefiles) for inspection. */
  keep: boolean;
  /** Progress lines (stderr). */
  log: (line: string) => void;
}

export function metric(name: string, value: number, unit: string, target?: number): Metric {
  return target === undefined ? { name, value, unit } : { name, value, unit, target, met: value <= target };
}

/** Parses the common flags: `--quick`, `--keep`. */
export function parseOptions(argv: readonly string[] = process.argv.slice(2)): BenchOptions {
  return {
    quick: argv.includes('--quick'),
    keep: argv.includes('--keep'),
    log: (line) => void process.stderr.write(`${line}\n`),
  };
}

/** True when the module at `metaUrl` is the script node was started with. */
export function isMain(metaUrl: string): boolean {
  const argv1 = process.argv[1];
  return argv1 !== undefined && path.resolve(argv1) === fileURLToPath(metaUrl);
}

/** Formats metrics as an aligned text table. */
export function formatTable(results: readonly BenchResult[]): string {
  const rows: string[][] = [['benchmark', 'metric', 'value', 'target', 'met']];
  for (const r of results) {
    for (const m of r.metrics) {
      rows.push([
        r.name,
        m.name,
        `${fmt(m.value)} ${m.unit}`.trim(),
        m.target === undefined ? '' : `<= ${fmt(m.target)} ${m.unit}`.trim(),
        m.met === undefined ? '' : m.met ? 'yes' : 'NO',
      ]);
    }
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => cell.padEnd(widths[c]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const a = Math.abs(n);
  return a >= 100 ? n.toFixed(0) : a >= 10 ? n.toFixed(1) : n.toFixed(2);
}

/** Runs one benchmark as a script: prints its table and notes, writes its raw JSON. */
export async function runStandalone(name: string, bench: (o: BenchOptions) => Promise<BenchResult>): Promise<void> {
  const options = parseOptions();
  const result = await bench(options);
  process.stdout.write(`${formatTable([result])}\n`);
  for (const n of result.notes) process.stdout.write(`  - ${n}\n`);
  const file = writeResults(name, {
    machine: machineInfo(),
    build: buildInfo,
    quick: options.quick,
    results: [result],
  });
  process.stdout.write(`raw results: ${file}\n`);
  cleanup();
}

/** Writes `data` as `bench/out/<name>-<timestamp>.json` and returns the path. */
export function writeResults(name: string, data: unknown): string {
  fs.mkdirSync(OUT_DIR, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const file = path.join(OUT_DIR, `${name}-${stamp}.json`);
  fs.writeFileSync(file, JSON.stringify(data, null, 2) + '\n');
  return file;
}

/** The machine, as the README reports it. */
export function machineInfo(): Record<string, unknown> {
  const cpu = /model name\s*:\s*(.*)/.exec(safeRead('/proc/cpuinfo'))?.[1] ?? os.cpus()[0]?.model ?? 'unknown';
  const free = spawnSync('free', ['-g'], { encoding: 'utf8' });
  return {
    nproc: os.availableParallelism(),
    cpu,
    memTotalGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    free: free.status === 0 ? free.stdout.trim() : null,
    node: process.version,
    platform: `${os.type()} ${os.release()}`,
    loadavg: os.loadavg(),
    date: new Date().toISOString(),
  };
}

function safeRead(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

// ---------------------------------------------------------------------------------------------
// Statistics

export function mean(xs: readonly number[]): number {
  return xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Percentile by linear interpolation between closest ranks (p in 0..100). */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const pos = ((s.length - 1) * p) / 100;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

export function median(xs: readonly number[]): number {
  return percentile(xs, 50);
}

export function max(xs: readonly number[]): number {
  return xs.reduce((a, b) => Math.max(a, b), -Infinity);
}

export function min(xs: readonly number[]): number {
  return xs.reduce((a, b) => Math.min(a, b), Infinity);
}

export function round(n: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

// ---------------------------------------------------------------------------------------------
// Random DAGs

/** A small seeded PRNG (mulberry32): the same seed gives the same DAGs on every machine. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randInt(r: () => number, lo: number, hi: number): number {
  return lo + Math.floor(r() * (hi - lo + 1));
}

/** A task of a generated DAG. Dependencies always come earlier in the list, so it is acyclic. */
export interface DagTask {
  id: string;
  deps: string[];
}

/**
 * A random DAG of `n` tasks: task i depends on 0..maxDeps distinct earlier tasks, chosen among
 * the `window` tasks before it (a window keeps the DAG deep, as real plans are; a dependency on
 * any earlier task would make it shallow and wide). About `rootShare` of tasks have no deps.
 */
export function randomDag(
  n: number,
  seed: number,
  options: { maxDeps?: number; window?: number; rootShare?: number } = {},
): DagTask[] {
  const { maxDeps = 3, window = 50, rootShare = 0.05 } = options;
  const r = rng(seed);
  const width = String(n - 1).length;
  const id = (i: number): string => `t${String(i).padStart(width, '0')}`;
  const tasks: DagTask[] = [];
  for (let i = 0; i < n; i++) {
    const deps = new Set<string>();
    if (i > 0 && r() >= rootShare) {
      const k = randInt(r, 1, maxDeps);
      const lo = Math.max(0, i - window);
      for (let j = 0; j < k; j++) deps.add(id(randInt(r, lo, i - 1)));
    }
    tasks.push({ id: id(i), deps: [...deps] });
  }
  return tasks;
}

/** Depth (number of waves), edges, and the widest wave of a DAG in dependency order. */
export function dagShape(tasks: readonly DagTask[]): {
  tasks: number;
  edges: number;
  waves: number;
  widestWave: number;
} {
  const wave = new Map<string, number>();
  const perWave: number[] = [];
  let edges = 0;
  for (const t of tasks) {
    let w = 0;
    for (const d of t.deps) w = Math.max(w, wave.get(d)! + 1);
    wave.set(t.id, w);
    perWave[w] = (perWave[w] ?? 0) + 1;
    edges += t.deps.length;
  }
  return { tasks: tasks.length, edges, waves: perWave.length, widestWave: max(perWave) };
}

// ---------------------------------------------------------------------------------------------
// Configs and run directories

/** A task as written into a config. */
export interface ConfigTask {
  id: string;
  deps: string[];
  run: string;
  estimate?: number;
}

/**
 * Writes a swarm config. JSON is valid YAML, and the config loader parses YAML, so the file is
 * JSON (faster to write and unambiguous to quote).
 */
export function writeConfig(
  file: string,
  config: {
    workers: number;
    mode?: 'eager' | 'waves';
    /** `git.isolation`; omitted: the default (worktree when the run is in a git repository). */
    isolation?: 'worktree' | 'none';
    tasks: readonly ConfigTask[];
  },
): void {
  const body = {
    version: 1,
    workers: config.workers,
    scheduling: { mode: config.mode ?? 'eager' },
    ...(config.isolation === undefined ? {} : { git: { isolation: config.isolation } }),
    tasks: config.tasks.map((t) => ({
      id: t.id,
      deps: t.deps,
      run: t.run,
      ...(t.estimate === undefined ? {} : { estimate: t.estimate }),
    })),
  };
  fs.writeFileSync(file, JSON.stringify(body, null, 1) + '\n');
}

/** A fresh temporary directory for one benchmark. */
export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `fileswarm-bench-${prefix}-`));
}

/**
 * Lets the machine settle before a timed run: `sync` (so the previous run's dirty pages are not
 * written back during this one) and a short pause. Used before every measured run, swarm or make.
 */
export async function settle(ms = 1000): Promise<void> {
  spawnSync('sync');
  await new Promise((r) => setTimeout(r, ms));
}

const toRemove: string[] = [];

/**
 * Marks a temporary directory for removal at the end of the whole benchmark process
 * ({@link cleanup}), not now: on this VM, deleting thousands of files slows the file system for
 * the next minute or so (5 back-to-back 1000-task runs took 6.2, 8.6, 10.7, 12.2, 12.8 s when each
 * run directory was deleted before the next; 6.3-7.4 s after the first when they were kept), which would bias
 * every later repeat against swarm (make writes no files).
 */
export function removeDir(dir: string, options: BenchOptions): void {
  if (!options.keep) toRemove.push(dir);
}

/** Removes the directories passed to {@link removeDir}. */
export function cleanup(): void {
  for (const dir of toRemove.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/** One event of events.jsonl, as far as the benchmarks care. */
export interface RunEvent {
  seq: number;
  at: string;
  type: string;
  task?: string;
  attempt?: number;
  [k: string]: unknown;
}

/** Reads events.jsonl of a run directory (skips a torn last line). */
export function readEvents(runDir: string): RunEvent[] {
  const text = fs.readFileSync(path.join(runDir, 'events.jsonl'), 'utf8');
  const out: RunEvent[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      out.push(JSON.parse(line) as RunEvent);
    } catch {
      // torn last line
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Child processes

/** How a timed child process ended. */
export interface Timed {
  wallMs: number;
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  /** With `pollRss`: the last VmHWM (peak RSS) read from /proc/<pid>/status, in KiB. */
  peakRssKiB?: number;
  /** With `pollRss`: [ms since start, VmRSS KiB] samples. */
  rssSamples?: [number, number][];
  /** True if it was killed for running longer than `timeoutMs`. */
  timedOut: boolean;
}

/**
 * Runs a command and times it from spawn to exit (hrtime). stdout/stderr are captured (keep them
 * small: the benchmarks pass commands whose output is a few lines, or `quietStdout`).
 */
export function timed(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; pollRss?: number; timeoutMs?: number; quietStdout?: boolean } = {},
): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', options.quietStdout ? 'ignore' : 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      if (stdout.length < 1 << 20) stdout += d;
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < 1 << 20) stderr += d;
    });
    let peak: number | undefined;
    const samples: [number, number][] = [];
    let poller: NodeJS.Timeout | undefined;
    const sample = (): void => {
      const m = child.pid === undefined ? undefined : memoryKiB(child.pid);
      if (m === undefined) return;
      peak = Math.max(peak ?? 0, m.hwm);
      samples.push([Number(process.hrtime.bigint() - start) / 1e6, m.rss]);
    };
    if (options.pollRss !== undefined && child.pid !== undefined) {
      sample();
      poller = setInterval(sample, options.pollRss);
    }
    let timedOut = false;
    const killer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            sample();
            child.kill('SIGTERM');
            setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
          }, options.timeoutMs);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
      clearInterval(poller);
      clearTimeout(killer);
      const done = (): void =>
        resolve({
          wallMs,
          code,
          signal,
          stdout,
          stderr,
          timedOut,
          ...(options.pollRss !== undefined ? { peakRssKiB: peak ?? NaN, rssSamples: samples } : {}),
        });
      // Let the pipes drain ('exit' may come before the last data).
      if (child.stdout || child.stderr) child.on('close', done);
      else done();
    });
  });
}

/** Options of one `swarm run`. */
export interface SwarmRunOptions {
  config: string;
  runDir: string;
  cwd: string;
  workers?: number;
  mode?: 'eager' | 'waves';
  pollRss?: number;
  timeoutMs?: number;
  /** Return instead of throwing when it exits non-zero (the caller reports `code`). */
  allowFailure?: boolean;
}

/**
 * Runs `node dist/src/cli.js run <config> --run-dir D` and times it. Its stdout (one line per
 * event) goes to /dev/null, as a terminal would not slow it much either. Throws if it did not
 * exit 0 (unless it timed out, which the caller reports).
 */
export async function swarmRun(o: SwarmRunOptions): Promise<Timed> {
  const args = [CLI, 'run', o.config, '--run-dir', o.runDir];
  if (o.workers !== undefined) args.push('--workers', String(o.workers));
  if (o.mode !== undefined) args.push('--mode', o.mode);
  const t = await timed(process.execPath, args, {
    cwd: o.cwd,
    env: { ...process.env, NO_COLOR: '1' },
    quietStdout: true,
    ...(o.pollRss !== undefined ? { pollRss: o.pollRss } : {}),
    ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
  });
  if (t.code !== 0 && !t.timedOut && !o.allowFailure)
    throw new Error(`swarm run ${o.config} exited ${t.code ?? t.signal}: ${t.stderr.slice(-2000)}`);
  return t;
}

let snapshotDir: string | undefined;

/** What was benchmarked: git HEAD and uncommitted src/ changes when dist/src was copied, and the build's time. */
export let buildInfo:
  { head: string | null; dirtySrc: string | null; distBuiltAt: string; snapshotAt: string } | undefined;

function git(...args: string[]): string | null {
  const r = spawnSync('git', ['-C', REPO, ...args], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/**
 * Ensures `dist/src/cli.js` exists and points {@link CLI} at a private copy of `dist/src/`, taken
 * once per process. Someone else may rebuild `dist/` while a benchmark runs (tsc rewrites every
 * file), and a worker process starting mid-rebuild would load a half-written module and die.
 * The copy lives in a temporary directory, with its own hard-linked copy of node_modules.
 */
export function requireBuild(): void {
  if (snapshotDir !== undefined) return;
  if (!fs.existsSync(path.join(DIST_SRC, 'cli.js')))
    throw new Error(`${DIST_SRC}cli.js is missing: run \`npm run build\` first`);
  for (let tries = 0; ; tries++) {
    const before = newestMtime(DIST_SRC);
    // A build in progress writes files within a few seconds; wait until dist/ has been quiet for 3 s.
    if (Date.now() - before < 3000 && tries < 60) {
      sleepSync(1000);
      continue;
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fileswarm-bench-dist-'));
    fs.cpSync(DIST_SRC, path.join(dir, 'src'), { recursive: true });
    if (newestMtime(DIST_SRC) !== before && tries < 60) {
      fs.rmSync(dir, { recursive: true, force: true });
      continue;
    }
    // node_modules too: a hard-linked copy (fast, no extra space) survives an `npm install` or
    // `npm uninstall` run by someone else meanwhile; a symlink is the fallback across devices.
    const linked = spawnSync('cp', ['-al', path.join(REPO, 'node_modules'), path.join(dir, 'node_modules')]);
    if (linked.status !== 0) {
      fs.rmSync(path.join(dir, 'node_modules'), { recursive: true, force: true });
      fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'));
    }
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module' }) + '\n');
    const check = spawnSync(process.execPath, [path.join(dir, 'src', 'cli.js'), '--version'], { encoding: 'utf8' });
    if (check.status !== 0) throw new Error(`the snapshot of dist/src does not start: ${check.stderr}`);
    snapshotDir = dir;
    CLI = path.join(dir, 'src', 'cli.js');
    buildInfo = {
      head: git('rev-parse', 'HEAD'),
      dirtySrc: git('status', '--short', '--', 'src'),
      distBuiltAt: new Date(before).toISOString(),
      snapshotAt: new Date().toISOString(),
    };
    process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
    return;
  }
}

/**
 * Other benchmark runs on this machine right now: processes running from a `fileswarm-bench-dist-*`
 * snapshot other than ours, or a `dist/bench/` script other than this process. Two suites at once
 * on 2 cores distort both, so run-all records what it saw.
 */
export function otherBenchmarks(): string[] {
  const seen = new Set<string>();
  let pids: string[] = [];
  try {
    pids = fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return [];
  }
  const parentOf = (pid: number): number => {
    const stat = safeRead(`/proc/${pid}/stat`);
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  };
  // Our own ancestors (npm, the shell of `npm run bench`) mention dist/bench too.
  const ours = new Set<number>([process.pid]);
  for (let p = process.ppid; p > 1 && !ours.has(p); p = parentOf(p)) ours.add(p);
  // So do our own children (serve-sse's clients, dist/bench/sse-clients.js).
  const descendant = (pid: number): boolean => {
    for (let p = parentOf(pid), hops = 0; p > 1 && hops < 64; p = parentOf(p), hops++)
      if (p === process.pid) return true;
    return false;
  };
  for (const pid of pids) {
    if (ours.has(Number(pid)) || descendant(Number(pid))) continue;
    const cmd = safeRead(`/proc/${pid}/cmdline`).split('\0').join(' ');
    const snap = /fileswarm-bench-dist-[A-Za-z0-9]+/.exec(cmd)?.[0];
    if (snap && (snapshotDir === undefined || !snapshotDir.endsWith(snap))) seen.add(snap);
    else if (/dist\/bench\/[a-z-]+\.js/.test(cmd)) seen.add(`pid ${pid}: ${cmd.slice(0, 120)}`);
  }
  return [...seen];
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) newest = Math.max(newest, fs.statSync(path.join(e.parentPath, e.name)).mtimeMs);
  }
  return newest;
}

function sleepSync(msec: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, msec);
}

/** Clock ticks per second of `/proc/<pid>/stat`'s times (`getconf CLK_TCK`; 100 on Linux). */
export const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** CPU time (user + system) of a process so far, in seconds (1/CLK_TCK resolution); NaN once it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // fields 14 and 15 of stat(5)
  } catch {
    return NaN;
  }
}

/**
 * Scheduler times of a process's main thread from `/proc/<pid>/schedstat`, in seconds: `runS` on
 * a CPU, `waitS` runnable but waiting for one (the machine was busy). NaN once it is gone.
 */
export function schedSeconds(pid: number): { runS: number; waitS: number } {
  const [run, wait] = safeRead(`/proc/${pid}/schedstat`).split(' ');
  return run === undefined || wait === undefined || run === ''
    ? { runS: NaN, waitS: NaN }
    : { runS: Number(run) / 1e9, waitS: Number(wait) / 1e9 };
}

/**
 * Memory of a live process from `/proc/<pid>/status`, in KiB: `hwm` is VmHWM (peak RSS so far),
 * `rss` is VmRSS (now). Undefined once the process is gone (or has been reaped).
 */
export function memoryKiB(pid: number): { hwm: number; rss: number } | undefined {
  const status = safeRead(`/proc/${pid}/status`);
  const hwm = /VmHWM:\s*(\d+) kB/.exec(status)?.[1];
  const rss = /VmRSS:\s*(\d+) kB/.exec(status)?.[1];
  return hwm === undefined || rss === undefined ? undefined : { hwm: Number(hwm), rss: Number(rss) };
}

/**
 * Polls `check` every `everyMs` until it returns a truthy value, and resolves with it.
 * @throws Error naming `what` after `timeoutMs`.
 */
export async function until<T>(
  check: () => T | undefined | false,
  timeoutMs: number,
  what: string,
  everyMs = 10,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Milliseconds since the epoch of an ISO timestamp in an event. */
export function ms(iso: string): number {
  return Date.parse(iso);
}

/**
 * For every attempt.finished event of a run (in log order): how long after its result.json was
 * written (mtime) the coordinator recorded it, in ms. Large values (≈ up to 1 s) mean the
 * coordinator's periodic rescan found the result, not its file watcher.
 */
export function noticeLagsMs(runDir: string, events: readonly RunEvent[] = readEvents(runDir)): number[] {
  const out: number[] = [];
  for (const e of events) {
    if (e.type !== 'attempt.finished' || e.task === undefined || e.attempt === undefined) continue;
    try {
      const st = fs.statSync(path.join(runDir, 'tasks', e.task, String(e.attempt), 'result.json'));
      out.push(ms(e.at) - st.mtimeMs);
    } catch {
      // no result.json (worker lost): not a notice
    }
  }
  return out;
}
