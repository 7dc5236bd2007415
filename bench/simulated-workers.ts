// Benchmark: one coordinator against N simulated workers, N = 10, 100, 1,000. The coordinator is a
// real `swarm run` whose launcher starts nothing (SWARM_BENCH_EXTERNAL_WORKERS=1,
// src/coordinator/launchers/external.ts); this process plays the worker side of the protocol for
// all N workers with the protocol's own code (maildir claim, worker.json heartbeats, status.json,
// result.json written atomically with fsync, then worker.json, as src/worker/ does). Each attempt
// "runs" for ATTEMPT_MS (a timer), so N attempts are in flight at once. The DAG is LAYERS layers of
// N tasks, each depending on one random task of the layer before.
//
// Measured for each N, once with the coordinator's file watcher and once with its rescan alone
// (SWARM_NO_WATCH=1: what a run directory on a shared volume across hosts gets): the coordinator's
// CPU per wall second (utime + stime from /proc), its peak RSS, tasks per second, and dispatch
// latency = a dependent's assignment claimed − its last dependency's result.json written (both on
// this process's clock). Reference in the same run: the same coordinator with the local launcher and
// 8 real worker processes on the same DAG shape at N = 8 (each attempt `sleep` ATTEMPT_MS; its start
// is taken from a `date` it runs first).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { writeJsonAtomicSync } from '../src/protocol/files.js';
import { claim, listNew } from '../src/protocol/maildir.js';
import { RunPaths } from '../src/protocol/paths.js';
import { PROTOCOL_VERSION, type AttemptResult, type WorkerJson } from '../src/protocol/schemas.js';
import {
  CLI,
  cpuSeconds,
  isMain,
  memoryKiB,
  metric,
  percentile,
  removeDir,
  requireBuild,
  rng,
  round,
  runStandalone,
  settle,
  tempDir,
  type BenchOptions,
  type BenchResult,
  type Metric,
} from './lib.js';

/** How long each simulated attempt runs, ms. */
const ATTEMPT_MS = 1000;
/** Layers of the DAG (each N tasks wide). */
const LAYERS = 8;
/** The coordinator's heartbeat and the workers', ms (liveness.heartbeat). */
const HEARTBEAT_MS = 1000;

/** What one run gave. */
interface Sample {
  workers: number;
  watch: boolean;
  simulated: boolean;
  tasks: number;
  wallS: number;
  cpuPerS: number;
  peakMiB: number;
  tasksPerS: number;
  latencyP50: number;
  latencyP99: number;
  /** CPU of this process (the simulated workers) per wall second, cores. */
  harnessCpuPerS: number;
}

/** The DAG: LAYERS × width tasks, each after one random task of the layer before. */
function layeredDag(width: number, seed: number): { id: string; deps: string[] }[] {
  const r = rng(seed);
  const tasks: { id: string; deps: string[] }[] = [];
  for (let l = 0; l < LAYERS; l++)
    for (let i = 0; i < width; i++)
      tasks.push({ id: `l${l}-${i}`, deps: l === 0 ? [] : [`l${l - 1}-${Math.floor(r() * width)}`] });
  return tasks;
}

/** Plays `n` workers of the run in `runDir` until the coordinator exits; returns claim and result times. */
class SimulatedWorkers {
  readonly #paths: RunPaths;
  readonly #ids: string[];
  readonly #session: string;
  readonly #info = new Map<string, WorkerJson>();
  readonly #watchers: fs.FSWatcher[] = [];
  readonly #timers: NodeJS.Timeout[] = [];
  /** Task → when its result.json was written / its assignment claimed (ms, performance.now()). */
  readonly resultAt = new Map<string, number>();
  readonly claimedAt = new Map<string, number>();

  constructor(runDir: string, n: number, session: string) {
    this.#paths = new RunPaths(runDir);
    this.#ids = Array.from({ length: n }, (_, i) => `w${i + 1}`);
    this.#session = session;
  }

  start(): void {
    const now = new Date().toISOString();
    for (const id of this.#ids) {
      const info: WorkerJson = {
        id,
        pid: process.pid,
        host: 'simulated',
        started_at: now,
        heartbeat_at: now,
        state: 'idle',
        current: null,
        coordinator: this.#session,
      };
      this.#info.set(id, info);
      fs.mkdirSync(this.#paths.workerDir(id), { recursive: true });
      this.#write(id);
      const box = this.#paths.inbox(id);
      fs.mkdirSync(box.new, { recursive: true });
      this.#watchers.push(fs.watch(box.new, () => this.#poll(id)));
      this.#poll(id);
    }
    // Heartbeats, and a rescan of every inbox as a real worker's 1 s rescan.
    this.#timers.push(
      setInterval(() => {
        for (const id of this.#ids) {
          this.#write(id);
          this.#poll(id);
        }
      }, HEARTBEAT_MS),
    );
  }

  stop(): void {
    for (const w of this.#watchers) w.close();
    for (const t of this.#timers) clearInterval(t);
  }

  #write(id: string): void {
    const info = this.#info.get(id)!;
    info.heartbeat_at = new Date().toISOString();
    writeJsonAtomicSync(this.#paths.workerJson(id), info, { fsync: false });
  }

  #poll(id: string): void {
    const info = this.#info.get(id)!;
    const box = this.#paths.inbox(id);
    let listed;
    try {
      listed = listNew(box);
    } catch {
      return; // the run directory is going away
    }
    for (const { name, message } of listed.messages) {
      if (message.kind === 'assign' && info.state !== 'idle') continue;
      if (!claim(box, name)) continue;
      if (message.kind === 'stop') {
        info.state = 'stopping';
        this.#write(id);
        continue;
      }
      if (message.kind !== 'assign') continue;
      this.claimedAt.set(message.task, performance.now());
      info.state = 'busy';
      info.current = { task: message.task, attempt: message.attempt };
      this.#write(id);
      this.#run(id, message.task, message.attempt);
    }
  }

  #run(id: string, task: string, attempt: number): void {
    const files = this.#paths.attempt(task, attempt);
    const started = new Date().toISOString();
    const status = {
      state: 'running' as const,
      worker: id,
      host: 'simulated',
      pgid: null,
      started_at: started,
      heartbeat_at: started,
      turn: null,
      activity: null,
      usage: null,
    };
    writeJsonAtomicSync(files.status, status, { fsync: false });
    setTimeout(() => {
      const finished = new Date().toISOString();
      const result: AttemptResult = {
        protocol: PROTOCOL_VERSION,
        task,
        attempt,
        worker: id,
        outcome: 'succeeded',
        reason: 'exit-zero',
        summary: 'exited with code 0',
        exit_code: 0,
        signal: null,
        started_at: started,
        finished_at: finished,
        duration_ms: ATTEMPT_MS,
        stderr_tail: [],
        usage: null,
        turns: null,
        session: null,
        commit: null,
        files_changed: null,
        verify: null,
      };
      writeJsonAtomicSync(files.result, result);
      this.resultAt.set(task, performance.now());
      writeJsonAtomicSync(files.status, { ...status, state: 'finished', heartbeat_at: finished }, { fsync: false });
      const info = this.#info.get(id)!;
      info.state = 'idle';
      info.current = null;
      this.#write(id);
      this.#poll(id);
    }, ATTEMPT_MS);
  }
}

/** Dispatch latencies (ms) of the tasks with a dependency, from claim and result times on one clock. */
function latencies(
  dag: { id: string; deps: string[] }[],
  resultAt: Map<string, number>,
  startedAt: Map<string, number>,
): number[] {
  const out: number[] = [];
  for (const t of dag) {
    if (t.deps.length === 0) continue;
    const s = startedAt.get(t.id);
    const d = Math.max(...t.deps.map((x) => resultAt.get(x) ?? NaN));
    if (s !== undefined && Number.isFinite(d)) out.push(s - d);
  }
  return out;
}

/** Runs the DAG of width `n` with simulated workers (or, `simulated: false`, 8 real ones). */
async function runOnce(dir: string, n: number, watch: boolean, simulated: boolean): Promise<Sample> {
  const dag = layeredDag(n, 1000 + n);
  const root = fs.mkdtempSync(path.join(dir, `n${n}-`));
  const runDir = path.join(root, 'run');
  const stamp = (id: string): string => `date +%s%N > "$SWARM_RUN_DIR/start-${id}"; sleep ${ATTEMPT_MS / 1000}`;
  const config = {
    version: 1,
    workers: n,
    git: { isolation: 'none' },
    liveness: { heartbeat: `${HEARTBEAT_MS}ms`, stale_after: '30s' },
    scheduling: { kill_grace: '100ms' },
    tasks: dag.map((t) => ({ ...t, run: simulated ? 'true' : stamp(t.id) })),
  };
  fs.writeFileSync(path.join(root, 'swarm.yaml'), JSON.stringify(config));
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  if (simulated) env.SWARM_BENCH_EXTERNAL_WORKERS = '1';
  if (!watch) env.SWARM_NO_WATCH = '1';
  const t0 = performance.now();
  const epochAtT0 = Date.now();
  const cpu0 = process.cpuUsage();
  // SWARM_BENCH_NODE_ARGS: node options for the coordinator, e.g. `--cpu-prof --cpu-prof-dir=D`.
  const nodeArgs = process.env.SWARM_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const child = spawn(
    process.execPath,
    [...nodeArgs, CLI, 'run', 'swarm.yaml', '--no-dashboard', '--run-dir', runDir],
    {
      cwd: root,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let peakKiB = 0;
  let cpu = 0;
  const sampler = setInterval(() => {
    const m = memoryKiB(child.pid!);
    if (m) peakKiB = Math.max(peakKiB, m.hwm);
    const c = cpuSeconds(child.pid!);
    if (Number.isFinite(c)) cpu = c;
  }, 100);
  let workers: SimulatedWorkers | undefined;
  if (simulated) {
    const paths = new RunPaths(runDir);
    while (!fs.existsSync(paths.coordinatorJson)) {
      if (child.exitCode !== null)
        throw new Error(`swarm run (n=${n}) exited ${child.exitCode}: ${stderr.slice(-1500)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const session = (JSON.parse(fs.readFileSync(paths.coordinatorJson, 'utf8')) as { session: string }).session;
    workers = new SimulatedWorkers(runDir, n, session);
    workers.start();
  }
  const code = await exited;
  const wallS = (performance.now() - t0) / 1000;
  const harness = process.cpuUsage(cpu0);
  clearInterval(sampler);
  workers?.stop();
  if (code !== 0) throw new Error(`swarm run (n=${n}) exited ${code}: ${stderr.slice(-1500)}`);
  let lat: number[];
  if (workers) lat = latencies(dag, workers.resultAt, workers.claimedAt);
  else {
    // Real workers: a task's start is its `date`; a dependency's end is its result.json's mtime.
    const started = new Map<string, number>();
    const ended = new Map<string, number>();
    for (const t of dag) {
      const ns = BigInt(fs.readFileSync(path.join(runDir, `start-${t.id}`), 'utf8').trim());
      started.set(t.id, Number(ns / 1000n) / 1000 - epochAtT0);
      const mtime = fs.statSync(new RunPaths(runDir).attempt(t.id, 1).result, { bigint: true }).mtimeNs;
      ended.set(t.id, Number(mtime / 1000n) / 1000 - epochAtT0);
    }
    lat = latencies(dag, ended, started);
  }
  return {
    workers: n,
    watch,
    simulated,
    tasks: dag.length,
    wallS: round(wallS, 2),
    cpuPerS: round(cpu / wallS, 3),
    peakMiB: round(peakKiB / 1024, 0),
    tasksPerS: round(dag.length / wallS, 1),
    latencyP50: round(percentile(lat, 50), 1),
    latencyP99: round(percentile(lat, 99), 1),
    harnessCpuPerS: round((harness.user + harness.system) / 1e6 / wallS, 3),
  };
}

export async function simulatedWorkers(o: BenchOptions): Promise<BenchResult> {
  requireBuild();
  const began = Date.now();
  const at = process.argv.indexOf('--sizes');
  const sizes = at >= 0 ? process.argv[at + 1]!.split(',').map(Number) : o.quick ? [10, 100] : [10, 100, 1000];
  const dir = tempDir('simulated-workers');
  const samples: Sample[] = [];
  await settle();
  samples.push(await runOnce(dir, 8, true, false));
  o.log(`reference (8 real workers): ${JSON.stringify(samples.at(-1))}`);
  for (const n of sizes)
    for (const watch of [true, false]) {
      await settle();
      samples.push(await runOnce(dir, n, watch, true));
      o.log(`n=${n} ${watch ? 'watch' : 'rescan only'}: ${JSON.stringify(samples.at(-1))}`);
    }
  removeDir(dir, o);
  const ref = samples[0]!;
  const metrics: Metric[] = [
    metric('reference: 8 real workers, coordinator CPU', ref.cpuPerS, 'core'),
    metric('reference: latency p50 / p99', ref.latencyP50, `ms (p99 ${ref.latencyP99})`),
  ];
  for (const s of samples.slice(1)) {
    const name = `N=${s.workers}${s.watch ? '' : ', rescan only'}`;
    metrics.push(
      metric(`${name}: coordinator CPU (× reference)`, s.cpuPerS, `core (${round(s.cpuPerS / ref.cpuPerS, 1)}×)`),
      metric(`${name}: peak RSS`, s.peakMiB, `MiB (ref ${ref.peakMiB})`),
      metric(`${name}: tasks/s (ideal ${round(s.workers / (ATTEMPT_MS / 1000), 0)})`, s.tasksPerS, '/s'),
      metric(`${name}: dispatch latency p50 / p99`, s.latencyP50, `ms (p99 ${s.latencyP99})`),
    );
  }
  return {
    name: 'simulated-workers',
    description: `one coordinator, N simulated workers (${sizes.join(', ')}), ${LAYERS} layers of N tasks of ${ATTEMPT_MS} ms; watcher and rescan only; reference: 8 real workers`,
    params: { sizes, layers: LAYERS, attemptMs: ATTEMPT_MS, heartbeatMs: HEARTBEAT_MS },
    metrics,
    notes: [],
    raw: samples,
    elapsedMs: Date.now() - began,
  };
}

if (isMain(import.meta.url)) await runStandalone('simulated-workers', simulatedWorkers);
