// Benchmark 5: the dashboard, in a real terminal (tmux).
//
// Start-up: `swarm dashboard` on a 10,000-task run directory (bench/synthetic-run.ts: written by
// the protocol's own writers; 6,000 tasks finished, 8 running). Measured two ways: inside the
// process, from its start to the end of the first full frame ($SWARM_DASHBOARD_TRACE), and from
// outside, from starting the tmux window to capture-pane showing the header. References in the
// same run: `swarm status` on the same directory (loads everything with a full replay, prints
// 10,000 lines) and `node cli.js --version` (node start-up and module loading).
//
// CPU while tailing a busy run: `swarm run --no-dashboard` of a random DAG of `true` tasks on 8
// workers (hundreds of events a second), watched by a dashboard in tmux and, as the reference, by
// `swarm status --follow` (the line reader: it applies every event too). Process CPU time
// (utime + stime from /proc/<pid>/stat) over the same wall-clock window, for the dashboard, the
// reference and the coordinator; then the dashboard's CPU on the finished run, idle.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { writeSyntheticRun } from './synthetic-run.js';
import {
  CLI,
  CLK_TCK,
  cpuSeconds,
  isMain,
  median,
  metric,
  randomDag,
  readEvents,
  removeDir,
  requireBuild,
  round,
  runStandalone,
  settle,
  tempDir,
  timed,
  writeConfig,
  until,
  type BenchOptions,
  type BenchResult,
} from './lib.js';
import { tmuxAvailable, TmuxTerminal } from './tmux.js';

/**
 * One start of the dashboard on `runDir` in a fresh tmux window; returns its timings, ms. Then
 * scrolls: `G` until the last task (`lastTask`) is on screen, and `g` until the first is again.
 */
async function startOnce(
  dir: string,
  runDir: string,
  i: number,
  marker: RegExp,
  firstTask: string,
  lastTask: string,
): Promise<{
  externalMs: number;
  firstFrameMs: number;
  commandMs: number;
  open: unknown;
  endMs: number;
  homeMs: number;
}> {
  const trace = path.join(dir, `trace-${i}.json`);
  const start = process.hrtime.bigint();
  const term = new TmuxTerminal({
    cwd: dir,
    cols: 120,
    rows: 40,
    command: [process.execPath, CLI, 'dashboard', runDir],
    env: { SWARM_DASHBOARD_TRACE: trace },
  });
  try {
    await until(() => term.screen().some((l) => marker.test(l)), 60_000, 'the dashboard header', 5);
    const externalMs = Number(process.hrtime.bigint() - start) / 1e6;
    const t = await until(
      () =>
        fs.existsSync(trace)
          ? (JSON.parse(fs.readFileSync(trace, 'utf8')) as {
              first_frame_ms: number;
              command_ms: number;
              open: unknown;
            })
          : undefined,
      10_000,
      'the trace',
    );
    const row = (id: string): RegExp => new RegExp(`^│. ?\\*?${id} `);
    const scroll = async (key: string, id: string): Promise<number> => {
      const t0 = process.hrtime.bigint();
      term.keys(key);
      await until(() => term.screen().some((l) => row(id).test(l)), 10_000, `${id} on screen`, 2);
      return Number(process.hrtime.bigint() - t0) / 1e6;
    };
    const endMs = await scroll('G', lastTask);
    const homeMs = await scroll('g', firstTask);
    term.keys('q');
    return { externalMs, firstFrameMs: t.first_frame_ms, commandMs: t.command_ms, open: t.open, endMs, homeMs };
  } finally {
    term.kill();
  }
}

/** Runs the dashboard benchmark (start-up on 10,000 tasks, CPU while tailing); needs tmux. */
export async function dashboard(options: BenchOptions): Promise<BenchResult> {
  requireBuild();
  if (!tmuxAvailable()) throw new Error('the dashboard benchmark needs tmux (apt-get install tmux)');
  const began = Date.now();
  const dir = tempDir('dashboard');
  const repeats = options.quick ? 2 : 5;

  // ── Start-up on 10,000 tasks ──────────────────────────────────────────────────────────────
  const n = 10_000;
  const big = path.join(dir, 'big');
  const synthetic = await writeSyntheticRun(big, { tasks: n, finished: n * 0.6, running: 8, failEvery: 40 });
  // The task list's order: by wave, then plan order. Its first and last rows, for the scrolling test.
  const plan = JSON.parse(fs.readFileSync(path.join(big, 'plan.json'), 'utf8')) as {
    tasks: { id: string; wave: number }[];
  };
  const order = plan.tasks
    .map((t, k) => ({ ...t, k }))
    .sort((a, b) => a.wave - b.wave || a.k - b.k)
    .map((t) => t.id);
  const sizes = Object.fromEntries(
    ['plan.json', 'state.json', 'events.jsonl'].map((f) => [f, fs.statSync(path.join(big, f)).size]),
  );
  options.log(`dashboard: start-up on ${n} tasks (${synthetic.events} events), ${repeats} times`);
  const starts: Awaited<ReturnType<typeof startOnce>>[] = [];
  const statuses: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < repeats; i++) {
    await settle(500);
    starts.push(await startOnce(dir, big, i, /\/10000 done/, order[0]!, order.at(-1)!));
    const s = await timed(process.execPath, [CLI, 'status', big], { quietStdout: true });
    if (s.code !== 0) throw new Error(`swarm status failed: ${s.stderr}`);
    statuses.push(s.wallMs);
    bare.push((await timed(process.execPath, [CLI, '--version'])).wallMs);
    options.log(
      `  #${i + 1}: first frame ${starts[i]!.firstFrameMs.toFixed(0)} ms (in-process), ${starts[i]!.externalMs.toFixed(0)} ms (tmux); G ${starts[i]!.endMs.toFixed(0)} ms, g ${starts[i]!.homeMs.toFixed(0)} ms; status ${s.wallMs.toFixed(0)} ms; --version ${bare[i]!.toFixed(0)} ms`,
    );
  }

  // ── CPU while tailing a busy run ──────────────────────────────────────────────────────────
  const tasks = options.quick ? 400 : 2000;
  const config = path.join(dir, 'busy.yaml');
  writeConfig(config, { workers: 8, tasks: randomDag(tasks, 7007).map((t) => ({ ...t, run: 'true' })) });
  const runDir = path.join(dir, 'busy');
  await settle();
  options.log(`dashboard: CPU while tailing a run of ${tasks} tasks on 8 workers`);
  const run = spawn(process.execPath, [CLI, 'run', config, '--run-dir', runDir, '--no-dashboard'], {
    cwd: dir,
    stdio: 'ignore',
    env: { ...process.env, NO_COLOR: '1' },
  });
  const runExit = new Promise<number | null>((r) => run.on('exit', (code) => r(code)));
  await until(
    () => fs.existsSync(path.join(runDir, 'events.jsonl')) && fs.statSync(path.join(runDir, 'events.jsonl')).size > 0,
    60_000,
    'the run to start',
  );
  const term = new TmuxTerminal({
    cwd: dir,
    cols: 120,
    rows: 40,
    command: [process.execPath, CLI, 'dashboard', runDir],
  });
  const follow = spawn(process.execPath, [CLI, 'status', runDir, '--follow'], { stdio: 'ignore' });
  let busy: { seconds: number; dashboard: number; follow: number; coordinator: number; events: number } | undefined;
  let idle = NaN;
  try {
    const dashPid = term.panePid();
    await until(() => term.screen().some((l) => /done/.test(l)), 30_000, 'the dashboard');
    // Each process's CPU time over the window, from its first to its last reading: status --follow
    // exits when it reads run.finished, the coordinator a little after (it stops its workers).
    const pids = { dashboard: dashPid, follow: follow.pid!, coordinator: run.pid! };
    type Reading = { cpu: number; t: bigint; at: number };
    const first: Record<keyof typeof pids, Reading> = {} as never;
    const last: Record<keyof typeof pids, Reading> = {} as never;
    const read = (): void => {
      for (const [name, pid] of Object.entries(pids) as [keyof typeof pids, number][]) {
        const r = { cpu: cpuSeconds(pid), t: process.hrtime.bigint(), at: Date.now() };
        if (Number.isNaN(r.cpu)) continue;
        first[name] ??= r;
        last[name] = r;
      }
    };
    read();
    while (run.exitCode === null) {
      await new Promise((r) => setTimeout(r, 250));
      read();
    }
    const code = await runExit;
    const percent = (name: keyof typeof pids): number =>
      (100 * (last[name].cpu - first[name].cpu)) / (Number(last[name].t - first[name].t) / 1e9);
    const seconds = Number(last.coordinator.t - first.coordinator.t) / 1e9;
    const events = readEvents(runDir).filter(
      (e) => Date.parse(e.at) >= first.coordinator.at && Date.parse(e.at) <= last.coordinator.at,
    ).length;
    busy = {
      seconds,
      dashboard: percent('dashboard'),
      follow: percent('follow'),
      coordinator: percent('coordinator'),
      events: events / seconds,
    };
    options.log(
      `  run exited ${code}; window ${seconds.toFixed(1)} s, ${busy.events.toFixed(0)} events/s: dashboard ${busy.dashboard.toFixed(1)}% CPU, status --follow ${busy.follow.toFixed(1)}%, coordinator ${busy.coordinator.toFixed(1)}%`,
    );
    // The finished run, idle: the 1 s clock and the 2 s rescan only.
    await settle(1000);
    const i0 = cpuSeconds(dashPid);
    const it0 = process.hrtime.bigint();
    await new Promise((r) => setTimeout(r, options.quick ? 3000 : 10_000));
    idle = (100 * (cpuSeconds(dashPid) - i0)) / (Number(process.hrtime.bigint() - it0) / 1e9);
    options.log(`  idle on the finished run: ${idle.toFixed(2)}% CPU`);
  } finally {
    term.kill();
    follow.kill();
    run.kill();
  }
  removeDir(dir, options);
  if (!busy) throw new Error('no CPU window was measured');

  const first = median(starts.map((s) => s.firstFrameMs));
  const metrics = [
    metric(`first full frame, ${n} tasks (median of ${repeats}, from process start)`, round(first, 0), 'ms'),
    // Judged beyond the same run's bare start-up of the CLI: what the dashboard itself adds.
    metric('first full frame beyond node cli.js --version', round(first - median(bare), 0), 'ms', 1000),
    metric('  of which node start-up and module loading', round(median(starts.map((s) => s.commandMs)), 0), 'ms'),
    metric(
      'header on the tmux screen (from starting the window)',
      round(median(starts.map((s) => s.externalMs)), 0),
      'ms',
    ),
    metric(
      `G: the last of ${n} tasks on the tmux screen (median)`,
      round(median(starts.map((s) => s.endMs)), 0),
      'ms',
      200,
    ),
    metric('g: back to the first (median)', round(median(starts.map((s) => s.homeMs)), 0), 'ms', 200),
    metric(`reference: swarm status on the same run (full replay, ${n} lines)`, round(median(statuses), 0), 'ms'),
    metric('reference: node cli.js --version', round(median(bare), 0), 'ms'),
    metric(`dashboard CPU while tailing (${round(busy.events, 0)} events/s)`, round(busy.dashboard, 1), '%', 25),
    metric(
      'dashboard CPU ÷ coordinator CPU, same window',
      busy.coordinator > 0 ? round(busy.dashboard / busy.coordinator, 2) : 0,
      '×',
    ),
    metric('reference: swarm status --follow CPU, same window', round(busy.follow, 1), '%'),
    metric('reference: coordinator CPU, same window', round(busy.coordinator, 1), '%'),
    metric('dashboard CPU idle on the finished run', round(idle, 2), '%'),
  ];
  const notes = [
    `Start-up: a ${n}-task run directory written by the protocol's writers (${synthetic.events} events; plan.json ${(sizes['plan.json']! / 2 ** 20).toFixed(1)} MiB, state.json ${(sizes['state.json']! / 2 ** 20).toFixed(1)} MiB, events.jsonl ${(sizes['events.jsonl']! / 2 ** 20).toFixed(1)} MiB). The dashboard opens from state.json and reads the log backwards only as far as the feed needs; swarm status replays all of it.`,
    `First full frame (ms from process start, each run): ${starts.map((s) => s.firstFrameMs.toFixed(0)).join(', ')}; node start-up and module loading within it: ${starts.map((s) => s.commandMs.toFixed(0)).join(', ')}.`,
    `CPU: a ${tasks}-task random DAG of \`true\` on 8 workers; the window is ${busy.seconds.toFixed(1)} s of the run, from the dashboard's first frame until the coordinator exited. Percent of one core (the machine has 2).`,
  ];
  return {
    name: 'dashboard',
    description: `swarm dashboard in tmux: first frame on ${n} tasks; CPU while tailing a busy run`,
    params: { tasks: n, repeats, busyTasks: tasks, workers: 8, clkTck: CLK_TCK },
    metrics,
    notes,
    raw: { starts, statuses, bare, busy, idle, sizes, events: synthetic.events },
    elapsedMs: Date.now() - began,
  };
}

if (isMain(import.meta.url)) await runStandalone('dashboard', dashboard);
