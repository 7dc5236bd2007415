// Benchmark 4: scale. A 20,000-task random DAG (the most a plan may have) of `true` tasks on 8
// workers (`--scale-tasks N` for another size): the coordinator's peak RSS (VmHWM of the `swarm run`
// process, polled from /proc; workers are separate processes and not counted), then the time of
// `swarm resume` on the finished run (load run.json and plan.json, replay events.jsonl, report
// "already finished"). The reference measured in the same run is a bare `node dist/src/cli.js
// --version` (start-up and module loading): its time is taken off the resume's, and its peak RSS is
// reported beside the coordinator's. Targets: ≤ 200 MiB; resume ≤ 1 s beyond the reference.
import fs from 'node:fs';
import path from 'node:path';
import {
  CLI,
  dagShape,
  isMain,
  median,
  metric,
  ms,
  noticeLagsMs,
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
} from './lib.js';

const WORKERS = 8;
/** A run longer than this misses the brief's "10 minutes"; it is reported as such. */
const REPORT_LIMIT_MS = 10 * 60_000;
/**
 * The run is stopped after this long (`--scale-limit-min N`, default 40); RSS is reported anyway.
 * Longer than REPORT_LIMIT_MS so that a slow run still finishes and resume can be timed on it.
 */
function hardLimitMs(argv: readonly string[] = process.argv): number {
  const i = argv.indexOf('--scale-limit-min');
  const v = i >= 0 ? Number(argv[i + 1]) : NaN;
  return (Number.isFinite(v) && v > 0 ? v : 40) * 60_000;
}

/** Throughput over time: tasks finished per 10% of the run, to show whether dispatch slows down as the run grows. */
function throughputByDecile(runDir: string): { decile: number; tasks: number; ms: number; msPerTask: number }[] {
  const done = readEvents(runDir)
    .filter((e) => e.type === 'task.succeeded')
    .map((e) => ms(e.at));
  if (done.length < 10) return [];
  const out = [];
  const step = Math.floor(done.length / 10);
  for (let d = 0; d < 10; d++) {
    const a = done[d * step]!;
    const b = done[Math.min(done.length - 1, (d + 1) * step)]!;
    out.push({ decile: d + 1, tasks: step, ms: b - a, msPerTask: round((b - a) / step, 2) });
  }
  return out;
}

/** `--scale-tasks N` (default 20,000, the most a plan may have; 1,000 with --quick). */
function taskCount(quick: boolean, argv: readonly string[] = process.argv): number {
  const i = argv.indexOf('--scale-tasks');
  const v = i >= 0 ? Number(argv[i + 1]) : NaN;
  return Number.isInteger(v) && v > 0 ? v : quick ? 1000 : 20_000;
}

export async function scale(options: BenchOptions): Promise<BenchResult> {
  requireBuild();
  const began = Date.now();
  const n = taskCount(options.quick);
  const tasks = randomDag(n, 4242);
  const shape = dagShape(tasks);
  const dir = tempDir('scale');
  const config = path.join(dir, 'swarm.yaml');
  writeConfig(config, { workers: WORKERS, tasks: tasks.map((t) => ({ ...t, run: 'true' })) });
  const runDir = path.join(dir, 'run');
  const limitMs = hardLimitMs();
  options.log(
    `scale: ${n} tasks (${shape.edges} edges, ${shape.waves} waves), ${WORKERS} workers, stopped after ${limitMs / 60_000} min`,
  );

  await settle();
  const run = await swarmRun({
    config,
    runDir,
    cwd: dir,
    workers: WORKERS,
    pollRss: 200,
    timeoutMs: limitMs,
    allowFailure: true,
  });
  const peakMiB = run.peakRssKiB! / 1024;
  // VmRSS samples up to the 10-minute mark (VmHWM is not sampled separately; the max VmRSS seen is close).
  const rssAt10MinMiB = Math.max(...run.rssSamples!.filter(([t]) => t <= REPORT_LIMIT_MS).map(([, kib]) => kib)) / 1024;
  const events = readEvents(runDir);
  const finished = events.find((e) => e.type === 'run.finished');
  const succeeded = events.filter((e) => e.type === 'task.succeeded').length;
  const runStart = ms(events[0]!.at);
  const succeededBy10Min = events.filter(
    (e) => e.type === 'task.succeeded' && ms(e.at) - runStart <= REPORT_LIMIT_MS,
  ).length;
  const eventsBytes = fs.statSync(path.join(runDir, 'events.jsonl')).size;
  options.log(
    `  run: ${(run.wallMs / 1000).toFixed(1)} s, ${succeeded}/${n} succeeded, peak RSS ${peakMiB.toFixed(0)} MiB${run.timedOut ? ' (stopped at the time limit)' : ''}`,
  );
  const throughput = throughputByDecile(runDir);
  const lags = noticeLagsMs(runDir, events);
  const lagByDecile = Array.from({ length: 10 }, (_, d) =>
    median(lags.slice(Math.floor((d * lags.length) / 10), Math.floor(((d + 1) * lags.length) / 10))),
  );

  // Reference: node start-up + loading the CLI's modules, 3 times.
  const bare: number[] = [];
  let bareRssKiB = 0;
  for (let i = 0; i < 3; i++) {
    const t = await timed(process.execPath, [CLI, '--version'], { pollRss: 1 });
    bare.push(t.wallMs);
    bareRssKiB = Math.max(bareRssKiB, t.peakRssKiB ?? 0);
  }

  const resumes: number[] = [];
  let resumeOutput = '';
  let resumeError: string | undefined;
  if (finished) {
    await settle();
    for (let i = 0; i < 3; i++) {
      const r = await timed(process.execPath, [CLI, 'resume', runDir], {
        cwd: dir,
        env: { ...process.env, NO_COLOR: '1' },
      });
      if (r.code !== 0) {
        resumeError = `swarm resume exited ${r.code}: ${r.stderr.slice(0, 2000)}`;
        break;
      }
      resumes.push(r.wallMs);
      resumeOutput = r.stdout.trim();
    }
    options.log(`  resume: ${resumes.map((x) => x.toFixed(0)).join(', ')} ms (${resumeOutput})`);
  }
  removeDir(dir, options);

  const metrics = [
    metric('coordinator peak RSS (VmHWM)', round(peakMiB, 0), 'MiB', 200),
    metric('cli.js --version peak RSS (reference)', round(bareRssKiB / 1024, 0), 'MiB'),
    metric('run wall time', round(run.wallMs / 1000, 1), 's', REPORT_LIMIT_MS / 1000),
    metric('run per task', round(run.wallMs / Math.max(1, succeeded), 2), 'ms'),
  ];
  if (resumes.length > 0)
    metrics.push(
      metric('swarm resume (finished run, median of 3)', round(median(resumes) / 1000, 2), 's'),
      metric('swarm resume beyond cli.js --version', round((median(resumes) - median(bare)) / 1000, 2), 's', 1),
    );
  metrics.push(metric('node cli.js --version (reference)', round(median(bare) / 1000, 2), 's'));

  const notes = [
    `${n} tasks, ${shape.edges} dependency edges, ${shape.waves} waves (widest ${shape.widestWave}); events.jsonl ${(eventsBytes / 2 ** 20).toFixed(1)} MiB, ${events.length} events.`,
    !run.timedOut && !finished
      ? `The run did NOT finish: swarm run exited ${String(run.code ?? run.signal)} after ${(run.wallMs / 1000).toFixed(0)} s (stopped from outside?) with ${succeeded}/${n} tasks succeeded; the peak RSS is of that part of the run. stderr: ${run.stderr.slice(-500)}`
      : run.timedOut
        ? `The run did NOT finish within ${limitMs / 60_000} min: ${succeeded}/${n} tasks had succeeded when it was stopped; the peak RSS is of that part of the run, and resume was not timed (a resume would continue the run).`
        : `The run finished (${String(finished?.outcome)}) in ${(run.wallMs / 1000).toFixed(1)} s.`,
    run.wallMs > REPORT_LIMIT_MS
      ? `After 10 minutes ${succeededBy10Min}/${n} tasks had succeeded and the largest VmRSS sampled so far was ${rssAt10MinMiB.toFixed(0)} MiB.`
      : `It finished within 10 minutes.`,
    throughput.length
      ? `Time per task by tenth of the run (ms): ${throughput.map((t) => t.msPerTask.toFixed(1)).join(', ')}.`
      : 'Too few tasks finished to show throughput over time.',
    `Median delay from a result.json being written to the coordinator recording it, by tenth of the run (ms): ${lagByDecile.map((l) => l.toFixed(0)).join(', ')} (≈ 500-1000 ms means the 1 s rescan found it, not the file watcher).`,
  ];
  if (resumeError) notes.push(`swarm resume FAILED: ${resumeError}`);
  if (resumes.length > 0)
    notes.push(
      `swarm resume: ${resumes.map((x) => x.toFixed(0)).join(', ')} ms, of which ${median(bare).toFixed(0)} ms is node start-up and module loading (\`cli.js --version\`). It printed: "${resumeOutput.split('\n')[0]}".`,
    );
  return {
    name: 'scale',
    description: `${n}-task random DAG of \`true\`, ${WORKERS} workers: coordinator peak RSS; swarm resume of the finished run`,
    params: { tasks: n, workers: WORKERS, seed: 4242, shape, hardLimitMs: limitMs },
    metrics,
    notes,
    raw: {
      wallMs: run.wallMs,
      timedOut: run.timedOut,
      succeeded,
      succeededBy10Min,
      rssAt10MinMiB,
      peakRssKiB: run.peakRssKiB,
      rssSamples: run.rssSamples,
      events: events.length,
      eventsBytes,
      throughput,
      noticeLagByDecileMs: lagByDecile,
      resumeMs: resumes,
      resumeError,
      bareCliMs: bare,
      bareCliPeakRssKiB: bareRssKiB,
    },
    elapsedMs: Date.now() - began,
  };
}

if (isMain(import.meta.url)) await runStandalone('scale', scale);
