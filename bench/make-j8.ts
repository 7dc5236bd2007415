// Benchmark 1: overhead per task against make. A random DAG of 1000 no-op tasks (`true`) runs
// under `swarm run` with 8 workers and, as the reference, under `make -j8` with the same DAG as
// a Makefile of .PHONY targets. Both are run 3 times, interleaved; the result is the ratio of
// the median wall times. Target: swarm at most 4× make.
import fs from 'node:fs';
import path from 'node:path';
import {
  dagShape,
  isMain,
  median,
  metric,
  ms,
  noticeLagsMs,
  percentile,
  randomDag,
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
  type DagTask,
} from './lib.js';

const WORKERS = 8;

/** The DAG as a Makefile: one .PHONY target per task whose recipe is `true`. */
export function makefileOf(tasks: readonly DagTask[]): string {
  const lines = [`.PHONY: all ${tasks.map((t) => t.id).join(' ')}`, `all: ${tasks.map((t) => t.id).join(' ')}`, ''];
  for (const t of tasks) lines.push(`${t.id}:${t.deps.length ? ' ' + t.deps.join(' ') : ''}`, '\ttrue', '');
  return lines.join('\n');
}

export async function makeJ8(options: BenchOptions): Promise<BenchResult> {
  requireBuild();
  const began = Date.now();
  const n = options.quick ? 200 : 1000;
  const repeats = 3;
  const tasks = randomDag(n, 1001);
  const shape = dagShape(tasks);
  const dir = tempDir('make');
  fs.writeFileSync(path.join(dir, 'Makefile'), makefileOf(tasks));
  const config = path.join(dir, 'swarm.yaml');
  writeConfig(config, { workers: WORKERS, tasks: tasks.map((t) => ({ ...t, run: 'true' })) });
  options.log(
    `make-j8: ${n} tasks (${shape.edges} edges, ${shape.waves} waves, widest ${shape.widestWave}), ${repeats} repeats`,
  );

  const makeMs: number[] = [];
  const swarmMs: number[] = [];
  const swarmInnerMs: number[] = [];
  const lags: number[] = [];
  for (let i = 0; i < repeats; i++) {
    await settle();
    const m = await timed('make', ['-s', '-j8', '-C', dir, 'all'], { cwd: dir });
    if (m.code !== 0) throw new Error(`make failed: ${m.stderr}`);
    makeMs.push(m.wallMs);
    const runDir = path.join(dir, `run-${i}`);
    await settle();
    const s = await swarmRun({ config, runDir, cwd: dir, workers: WORKERS });
    swarmMs.push(s.wallMs);
    // Inside the run: run.started to run.finished (excludes node start-up and worker shutdown).
    const events = readEvents(runDir);
    const started = events.find((e) => e.type === 'run.started')!;
    const finished = events.find((e) => e.type === 'run.finished')!;
    if (finished.outcome !== 'succeeded') throw new Error(`swarm run ${runDir}: ${String(finished.outcome)}`);
    swarmInnerMs.push(ms(finished.at) - ms(started.at));
    lags.push(...noticeLagsMs(runDir, events));
    options.log(
      `  repeat ${i + 1}: make ${m.wallMs.toFixed(0)} ms, swarm ${s.wallMs.toFixed(0)} ms (run.started→run.finished ${swarmInnerMs.at(-1)} ms)`,
    );
    removeDir(runDir, options);
  }
  // Spawn floor: what `true` alone costs through /bin/sh, as the command backend runs it.
  await settle();
  const shTrue = await timed('/bin/sh', ['-c', `i=0; while [ $i -lt ${n} ]; do /bin/sh -c true; i=$((i+1)); done`]);
  removeDir(dir, options);

  const ratio = median(swarmMs) / median(makeMs);
  return {
    name: 'make-j8',
    description: `${n}-task random DAG of \`true\`: swarm run (8 workers) vs make -j8, median of ${repeats} each`,
    params: { tasks: n, workers: WORKERS, repeats, seed: 1001, shape },
    metrics: [
      metric('swarm / make (median wall)', round(ratio, 2), '×', 6),
      metric('swarm wall (median)', round(median(swarmMs), 0), 'ms'),
      metric('make -j8 wall (median)', round(median(makeMs), 0), 'ms'),
      metric('swarm per task', round(median(swarmMs) / n, 2), 'ms'),
      metric('results noticed > 100 ms late', round((100 * lags.filter((l) => l > 100).length) / lags.length, 1), '%'),
    ],
    notes: [
      `make runs \`true\` with fork+exec and no shell (a simple recipe); swarm's command backend runs \`/bin/sh -c true\` in a new process group, as it does every command task, after the worker has written status.json and prompt.md.`,
      `${n} sequential \`/bin/sh -c true\` cost ${(shTrue.wallMs / n).toFixed(2)} ms each here: the spawn floor is ${shTrue.wallMs.toFixed(0)} ms of the swarm total on one core.`,
      `The coordinator recorded each result ${median(lags).toFixed(0)} ms (median; p90 ${percentile(lags, 90).toFixed(0)} ms) after result.json was written; ${lags.filter((l) => l > 100).length} of ${lags.length} were more than 100 ms late, i.e. found by the 1 s rescan rather than the file watcher.`,
      `swarm wall includes node start-up of the coordinator and 8 workers and their shutdown; run.started→run.finished alone was ${median(swarmInnerMs).toFixed(0)} ms (median).`,
    ],
    raw: {
      makeMs,
      swarmMs,
      swarmInnerMs,
      shTrueLoopMs: shTrue.wallMs,
      noticeLagMs: { p50: median(lags), p90: percentile(lags, 90), p99: percentile(lags, 99) },
    },
    elapsedMs: Date.now() - began,
  };
}

if (isMain(import.meta.url)) await runStandalone('make-j8', makeJ8);
