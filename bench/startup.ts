// Benchmark: start-up. How long from `swarm run` to the first task's command running, on a
// one-task plan in a fresh git repository (git isolation, 4 workers), and the CPU the whole run
// uses beyond the task's own (`true`); plus `swarm --help` (module loading alone). References in
// the same run, interleaved repetition by repetition: `node -e 0` (node's own start-up, the floor),
// and, when $SWARM_BENCH_BASELINE names another build's cli.js, the same measurements of that
// build (the before of a before/after).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import {
  CLI,
  isMain,
  median,
  metric,
  removeDir,
  requireBuild,
  round,
  runStandalone,
  settle,
  tempDir,
  type BenchOptions,
  type BenchResult,
} from './lib.js';

/** One `swarm run` of the one-task plan. */
interface RunSample {
  /** From spawning `swarm run` to the task's command running (ms). */
  firstTaskMs: number;
  /** The whole run (ms). */
  wallMs: number;
  /** User + system CPU of `swarm run` and the processes it waited for (workers), ms. */
  cpuMs: number;
}

/** Wall time of a command, ms. */
function wall(command: string, args: string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(command, args, { stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${r.status}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** Runs the one-task plan with the CLI `cli` in a fresh repository under `dir`. */
async function runOnce(cli: string, dir: string): Promise<RunSample> {
  const repo = path.join(dir, `repo-${Math.random().toString(36).slice(2)}`);
  fs.mkdirSync(repo, { recursive: true });
  const git = (...a: string[]): void => void spawnSync('git', a, { cwd: repo, stdio: 'ignore' });
  git('init', '-q', '-b', 'main');
  fs.writeFileSync(path.join(repo, 'README.md'), '# bench\n');
  git('add', '-A');
  git('-c', 'user.name=b', '-c', 'user.email=b@b', 'commit', '-qm', 'init');
  const stamp = path.join(dir, `started-${path.basename(repo)}`);
  fs.writeFileSync(
    path.join(repo, 'swarm.yaml'),
    stringify({ version: 1, workers: 4, tasks: [{ id: 'first', run: `date +%s%N > ${stamp}` }] }),
  );
  const started = BigInt(Date.now()) * 1_000_000n;
  const t0 = process.hrtime.bigint();
  const cpuFile = path.join(dir, `cpu-${path.basename(repo)}`);
  const child = spawn('/usr/bin/time', ['-f', '%U %S', '-o', cpuFile, process.execPath, cli, 'run', 'swarm.yaml'], {
    cwd: repo,
    stdio: 'ignore',
    env: { ...process.env, NO_COLOR: '1' },
  });
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  if (code !== 0) throw new Error(`swarm run exited ${code} in ${repo}`);
  const firstTaskMs = Number(BigInt(fs.readFileSync(stamp, 'utf8').trim()) - started) / 1e6;
  const [user, sys] = fs.readFileSync(cpuFile, 'utf8').trim().split(/\s+/).slice(-2).map(Number);
  return { firstTaskMs, wallMs, cpuMs: ((user ?? 0) + (sys ?? 0)) * 1000 };
}

export async function startupBench(o: BenchOptions): Promise<BenchResult> {
  requireBuild();
  const began = Date.now();
  const reps = o.quick ? 3 : 9;
  const baseline = process.env.SWARM_BENCH_BASELINE;
  const builds: [string, string][] = [
    ['current', CLI],
    ...(baseline ? [['baseline', baseline] as [string, string]] : []),
  ];
  const dir = tempDir('startup');
  const raw: Record<string, { help: number[]; runs: RunSample[] }> = {};
  const node: number[] = [];
  for (const [name] of builds) raw[name] = { help: [], runs: [] };
  for (let i = 0; i < reps; i++) {
    node.push(wall(process.execPath, ['-e', '0']));
    for (const [name, cli] of builds) {
      raw[name]!.help.push(wall(process.execPath, [cli, '--help']));
      raw[name]!.runs.push(await runOnce(cli, dir));
      await settle(300);
    }
    o.log(`repetition ${i + 1}/${reps}`);
  }
  removeDir(dir, o);
  const nodeMs = median(node);
  const metrics = [metric('node -e 0 (reference)', round(nodeMs, 0), 'ms')];
  const notes: string[] = [];
  for (const [name] of builds) {
    const r = raw[name]!;
    const first = median(r.runs.map((s) => s.firstTaskMs));
    const suffix = builds.length > 1 ? ` [${name}]` : '';
    metrics.push(
      metric(`swarm --help${suffix}`, round(median(r.help), 0), 'ms'),
      metric(`swarm --help / node -e 0${suffix}`, round(median(r.help) / nodeMs, 2), '×'),
      metric(
        `first task running after swarm run starts${suffix}`,
        round(first, 0),
        'ms',
        name === 'current' ? 1000 : undefined,
      ),
      metric(`first task / node -e 0${suffix}`, round(first / nodeMs, 2), '×'),
      metric(`whole one-task run${suffix}`, round(median(r.runs.map((s) => s.wallMs)), 0), 'ms'),
      metric(`CPU of the one-task run${suffix}`, round(median(r.runs.map((s) => s.cpuMs)), 0), 'ms'),
    );
  }
  if (!baseline)
    notes.push('set SWARM_BENCH_BASELINE=<another build>/dist/src/cli.js to measure a before in the same run');
  return {
    name: 'startup',
    description: 'swarm run to the first task running, one-task plan, 4 workers, git isolation; swarm --help',
    params: { reps, builds: builds.map(([n, c]) => ({ name: n, cli: c })) },
    metrics,
    notes,
    raw: { node, ...raw },
    elapsedMs: Date.now() - began,
  };
}

if (isMain(import.meta.url)) await runStandalone('startup', startupBench);
