// Benchmark 3: dispatch latency. Chains of dependent tasks; for every task with a dependency,
// latency = (its command's first action: `date +%s%N` into a file) − (mtime of the dependency's
// result.json). The reference measured in the same run is the cost of `date` itself (fork+exec
// from the shell until it reads the clock), which is reported and subtracted. Target: p99 ≤ 20 ms.
import fs from 'node:fs';
import path from 'node:path';
import {
  isMain,
  max,
  mean,
  median,
  metric,
  ms,
  percentile,
  readEvents,
  removeDir,
  requireBuild,
  round,
  runStandalone,
  settle,
  swarmRun,
  tempDir,
  timed,
  writeConfig,
  type BenchOptions,
  type BenchResult,
  type ConfigTask,
} from './lib.js';

const START = 'date +%s%N > "$SWARM_RUN_DIR/start-$SWARM_TASK_ID-$SWARM_ATTEMPT"';

/**
 * What `date` costs before it reads the clock, as the task commands pay it: in one shell, two
 * `date +%s%N` in a row; the difference is one fork+exec of date until its clock read (plus the
 * first one's exit). Median of `samples` pairs, in ms.
 */
export async function dateCostMs(samples: number): Promise<{ medianMs: number; p99Ms: number }> {
  const script = `i=0; while [ $i -lt ${samples} ]; do date +%s%N; date +%s%N; i=$((i+1)); done`;
  const t = await timed('/bin/sh', ['-c', script]);
  const v = t.stdout
    .trim()
    .split('\n')
    .map((l) => BigInt(l));
  const d: number[] = [];
  for (let i = 0; i + 1 < v.length; i += 2) d.push(Number(v[i + 1]! - v[i]!) / 1e6);
  return { medianMs: median(d), p99Ms: percentile(d, 99) };
}

interface Hop {
  task: string;
  dep: string;
  /** result.json mtime of the dependency → the dependent's `date`, ms. */
  latencyMs: number;
  /** Parts, from events.jsonl (ms resolution): mtime → attempt.finished recorded. */
  noticeMs: number;
  /** attempt.finished recorded → attempt.assigned recorded (same tick unless a worker was busy). */
  assignMs: number;
  /** attempt.assigned → the command's `date`: assignment delivery, claim, attempt set-up, spawn. */
  startMs: number;
  /** attempt.assigned → the worker begins the attempt (result.json started_at): inbox delivery, notice, claim. */
  claimMs: number;
  /** The worker begins the attempt → the command's `date`: status.json, prompt.md, the command backend spawning /bin/sh. */
  spawnMs: number;
}

/** The dispatches of a finished chain run: one per task with a dependency. */
function readHops(runDir: string, tasks: readonly ConfigTask[]): Hop[] {
  const events = readEvents(runDir);
  const at = new Map<string, number>();
  for (const e of events) if (e.task !== undefined && e.attempt === 1) at.set(`${e.type} ${e.task}`, ms(e.at));
  const hops: Hop[] = [];
  for (const t of tasks) {
    const dep = t.deps[0];
    if (dep === undefined) continue;
    const mtimeNs = fs.statSync(path.join(runDir, 'tasks', dep, '1', 'result.json'), { bigint: true }).mtimeNs;
    const startNs = BigInt(fs.readFileSync(path.join(runDir, `start-${t.id}-1`), 'utf8').trim());
    const mtimeMs = Number(mtimeNs / 1000n) / 1000;
    const startMsEpoch = Number(startNs / 1000n) / 1000;
    const own = JSON.parse(fs.readFileSync(path.join(runDir, 'tasks', t.id, '1', 'result.json'), 'utf8')) as {
      started_at: string;
    };
    hops.push({
      task: t.id,
      dep,
      latencyMs: Number(startNs - mtimeNs) / 1e6,
      noticeMs: at.get(`attempt.finished ${dep}`)! - mtimeMs,
      assignMs: at.get(`attempt.assigned ${t.id}`)! - at.get(`attempt.finished ${dep}`)!,
      startMs: startMsEpoch - at.get(`attempt.assigned ${t.id}`)!,
      claimMs: ms(own.started_at) - at.get(`attempt.assigned ${t.id}`)!,
      spawnMs: startMsEpoch - ms(own.started_at),
    });
  }
  return hops;
}

export async function dispatchLatency(options: BenchOptions): Promise<BenchResult> {
  requireBuild();
  const began = Date.now();
  const chains = 2;
  const length = options.quick ? 30 : 120;
  const workers = 4;
  const dir = tempDir('latency');
  const tasks: ConfigTask[] = [];
  for (let c = 0; c < chains; c++) {
    for (let i = 0; i < length; i++) {
      tasks.push({
        id: `c${c}-${String(i).padStart(3, '0')}`,
        deps: i === 0 ? [] : [`c${c}-${String(i - 1).padStart(3, '0')}`],
        run: START,
        estimate: 1,
      });
    }
  }
  const config = path.join(dir, 'swarm.yaml');
  writeConfig(config, { workers, tasks });
  const repeats = options.quick ? 1 : 3;
  options.log(`dispatch-latency: ${chains} chains × ${length} tasks, ${workers} workers, ${repeats} run(s)`);
  const dates: { medianMs: number; p99Ms: number }[] = [await dateCostMs(200)];
  const hops: (Hop & { run: number })[] = [];
  const wallMs: number[] = [];
  for (let k = 0; k < repeats; k++) {
    const runDir = path.join(dir, `run-${k}`);
    await settle();
    const run = await swarmRun({ config, runDir, cwd: dir });
    wallMs.push(run.wallMs);
    dates.push(await dateCostMs(200));
    const mine = readHops(runDir, tasks).map((h) => ({ ...h, run: k }));
    hops.push(...mine);
    const lat = mine.map((h) => h.latencyMs);
    options.log(
      `  run ${k + 1}: p50 ${median(lat).toFixed(1)} ms, p99 ${percentile(lat, 99).toFixed(1)} ms (raw, ${mine.length} dispatches)`,
    );
    removeDir(runDir, options);
  }
  removeDir(dir, options);

  const lat = hops.map((h) => h.latencyMs);
  const dateMs = median(dates.map((d) => d.medianMs));
  const corrected = lat.map((l) => l - dateMs);
  const perRun = Array.from({ length: repeats }, (_, k) => {
    const l = hops.filter((h) => h.run === k).map((h) => h.latencyMs - dateMs);
    return { p50: median(l), p99: percentile(l, 99) };
  });
  const slow = hops.filter((h) => h.noticeMs > 100);
  const m = (f: (h: Hop) => number): string => median(hops.map(f)).toFixed(1);
  const a = (f: (h: Hop) => number): string => mean(hops.map(f)).toFixed(1);
  return {
    name: 'dispatch-latency',
    description: `${repeats} run(s) of ${chains} chains × ${length} dependent tasks with \`workers: ${workers}\` (the pool starts one per chain): dependency's result.json mtime → dependent's command start`,
    params: { chains, length, workers, repeats, dispatches: hops.length },
    metrics: [
      metric('p50 (date cost subtracted)', round(median(corrected), 1), 'ms'),
      metric('p99 (date cost subtracted)', round(percentile(corrected, 99), 1), 'ms', 15),
      metric('p50 raw', round(median(lat), 1), 'ms'),
      metric('p99 raw', round(percentile(lat, 99), 1), 'ms'),
      metric('max raw', round(max(lat), 1), 'ms'),
      metric('cost of date (median)', round(dateMs, 2), 'ms'),
      metric('dispatches', hops.length, ''),
      metric('result noticed > 100 ms late', round((100 * slow.length) / hops.length, 1), '%'),
    ],
    notes: [
      `Measured ${hops.length} dispatches over ${repeats} run(s); per run (date cost subtracted) p50/p99: ${perRun.map((r) => `${r.p50.toFixed(1)}/${r.p99.toFixed(1)}`).join(', ')} ms.`,
      `Each command starts with \`date +%s%N\`; forking date costs ${dates.map((d) => d.medianMs.toFixed(2)).join(', ')} ms (median of 200 pairs, before and after each run), ${dateMs.toFixed(2)} ms subtracted from the corrected figures.`,
      `result.json is written with write-file-atomic (write, fsync, rename): its mtime is set by the write, so the latency includes the fsync and rename of result.json itself.`,
      `Where the time goes (median / mean, ms; event times have 1 ms resolution): result.json mtime → coordinator records attempt.finished ${m((h) => h.noticeMs)} / ${a((h) => h.noticeMs)}; → attempt.assigned ${m((h) => h.assignMs)} / ${a((h) => h.assignMs)}; → worker begins the attempt (result.json started_at) ${m((h) => h.claimMs)} / ${a((h) => h.claimMs)} (assignment.json and inbox message written, worker notices and claims); → command's date ${m((h) => h.spawnMs)} / ${a((h) => h.spawnMs)} (status.json, prompt.md, events.jsonl, the command backend spawns /bin/sh, sh forks date).`,
      `${slow.length} of ${hops.length} results were noticed more than 100 ms after they were written (the coordinator's 1 s rescan found them, not the watcher).`,
      `Whole runs: ${tasks.length} tasks in ${wallMs.map((w) => (w / 1000).toFixed(1)).join(', ')} s wall.`,
    ],
    raw: { dateCostMs: dates, wallMs, hops },
    elapsedMs: Date.now() - began,
  };
}

if (isMain(import.meta.url)) await runStandalone('dispatch-latency', dispatchLatency);
