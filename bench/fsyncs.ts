// Benchmark: fsyncs per task. `swarm run` of a random DAG of `true` tasks (4 workers) under
// `strace -f -y -e trace=fsync,fdatasync`, counting every fsync and fdatasync of the coordinator,
// its workers and their children, by file; once without git (tasks in place) and once with git
// isolation (worktrees, commits, merges: git's own syncs count too). The reference is the floor the
// protocol needs: one fsync per task, of its result.json (the commit point). With
// $SWARM_BENCH_BASELINE=<another build's cli.js>, that build is counted the same way (a count, not a
// time: the machine's load does not change it). Needs strace.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  CLI,
  isMain,
  metric,
  randomDag,
  removeDir,
  requireBuild,
  round,
  runStandalone,
  tempDir,
  type BenchOptions,
  type BenchResult,
} from './lib.js';

/** One counted run. */
interface Count {
  build: string;
  git: boolean;
  tasks: number;
  syncs: number;
  /** Syncs by file, the attempt's and worker's parts of the path replaced by T/N and W. */
  byFile: Record<string, number>;
}

/** Runs `tasks` no-op tasks with `cli` under strace and counts the syncs. */
function countRun(cli: string, dir: string, tasks: number, git: boolean): Omit<Count, 'build'> {
  const repo = fs.mkdtempSync(path.join(dir, git ? 'git-' : 'plain-'));
  if (git) {
    const g = (...a: string[]): void => void spawnSync('git', a, { cwd: repo, stdio: 'ignore' });
    g('init', '-q', '-b', 'main');
    fs.writeFileSync(path.join(repo, 'README.md'), '# bench\n');
    g('add', '-A');
    g('-c', 'user.name=b', '-c', 'user.email=b@b', 'commit', '-qm', 'init');
  }
  const dag = randomDag(tasks, 77);
  const config = {
    version: 1,
    workers: 4,
    ...(git ? {} : { git: { isolation: 'none' } }),
    tasks: dag.map((t) => ({ id: t.id, deps: t.deps, run: 'true' })),
  };
  fs.writeFileSync(path.join(repo, 'swarm.yaml'), JSON.stringify(config));
  const trace = path.join(dir, `trace-${path.basename(repo)}`);
  const r = spawnSync(
    'strace',
    [
      '-f',
      '-qq',
      '-y',
      '-e',
      'trace=fsync,fdatasync',
      '-o',
      trace,
      process.execPath,
      cli,
      'run',
      'swarm.yaml',
      '--no-dashboard',
      '--run-dir',
      'run',
    ],
    { cwd: repo, stdio: 'ignore' },
  );
  if (r.status !== 0) throw new Error(`swarm run under strace exited ${r.status}`);
  const byFile: Record<string, number> = {};
  let syncs = 0;
  for (const m of fs.readFileSync(trace, 'utf8').matchAll(/(fsync|fdatasync)\(\d+<([^>]*)>/g)) {
    syncs++;
    const file = m[2]!
      .replace(repo + '/', '')
      .replace(/tasks\/[^/]+\/\d+\//, 'tasks/T/N/')
      .replace(/workers\/w\d+/, 'workers/W')
      .replace(/\.\d+$/, '');
    const key = `${m[1]} ${file}`;
    byFile[key] = (byFile[key] ?? 0) + 1;
  }
  return { git, tasks, syncs, byFile };
}

export async function fsyncs(o: BenchOptions): Promise<BenchResult> {
  requireBuild();
  if (spawnSync('strace', ['-V'], { stdio: 'ignore' }).status !== 0) throw new Error('fsyncs needs strace');
  const began = Date.now();
  const tasks = o.quick ? 60 : 300;
  const baseline = process.env.SWARM_BENCH_BASELINE;
  const builds: [string, string][] = [
    ['current', CLI],
    ...(baseline ? [['baseline', baseline] as [string, string]] : []),
  ];
  const dir = tempDir('fsyncs');
  const counts: Count[] = [];
  for (const git of [false, true])
    for (const [build, cli] of builds) {
      counts.push({ build, ...countRun(cli, dir, tasks, git) });
      o.log(`${build}, ${git ? 'git' : 'no git'}: done`);
    }
  removeDir(dir, o);
  const metrics = [metric('floor: result.json per task (reference)', 1, 'fsyncs/task')];
  for (const c of counts) {
    const suffix = `${c.git ? ', git isolation' : ', no git'}${builds.length > 1 ? ` [${c.build}]` : ''}`;
    metrics.push(
      metric(
        `fsyncs per task${suffix}`,
        round(c.syncs / c.tasks, 2),
        'fsyncs/task',
        c.build === 'current' ? 3 : undefined,
      ),
    );
  }
  const notes = counts.map(
    (c) =>
      `${c.build}${c.git ? ' git' : ''}: ` +
      Object.entries(c.byFile)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 6)
        .map(([k, n]) => `${k} ${n}`)
        .join('; '),
  );
  return {
    name: 'fsyncs',
    description: `fsync + fdatasync of every process of swarm run, ${tasks} no-op tasks, 4 workers, without and with git`,
    params: { tasks, builds: builds.map(([n, c]) => ({ name: n, cli: c })) },
    metrics,
    notes,
    raw: counts,
    elapsedMs: Date.now() - began,
  };
}

if (isMain(import.meta.url)) await runStandalone('fsyncs', fsyncs);
