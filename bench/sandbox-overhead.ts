// Benchmark 8: what the sandbox costs. In the same run, N times each, interleaved: `true` spawned
// the way the worker spawns a command (runShell: /bin/sh -c in its own process group, output to
// files), bare and inside an attempt's sandbox (bwrap with a private /tmp and home, the repository
// and run directory read-only, the worktree writable, new namespaces). Also timed: building an
// attempt's Sandbox (once per attempt) and the run's preflight (a trial sandbox, once per run).
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { NO_SANDBOX, PROTOCOL_VERSION, type Assignment } from '../src/protocol/schemas.js';
import { bubblewrapProblem } from '../src/worker/sandbox/preflight.js';
import { Sandbox } from '../src/worker/sandbox/sandbox.js';
import { runShell } from '../src/worker/shell.js';
import {
  isMain,
  median,
  metric,
  percentile,
  removeDir,
  round,
  runStandalone,
  tempDir,
  type BenchOptions,
  type BenchResult,
} from './lib.js';

/** An assignment of a command task in `repo`'s worktree `worktree`, in sandbox mode workspace. */
function assignmentIn(repo: string, worktree: string, runDir: string): Assignment {
  const task = {
    id: 't',
    title: 't',
    description: '',
    deps: [],
    role: null,
    backend: 'command' as const,
    run: 'true',
    cwd: null,
    env: {},
    files: [],
    verify: null,
    estimate: 1,
    timeout_ms: 60_000,
    retries: 0,
    wave: 0,
    rank: 1,
  };
  return {
    protocol: PROTOCOL_VERSION,
    run_id: 'bench',
    goal: null,
    agent: null,
    task,
    attempt: 1,
    worker: 'w1',
    assigned_at: new Date().toISOString(),
    workspace: worktree,
    base_commit: null,
    timeout_ms: 60_000,
    kill_grace_ms: 1000,
    env: { SWARM_RUN_DIR: runDir, SWARM_TASK_ID: 't', SWARM_ATTEMPT: '1', SWARM_ATTEMPT_KEY: 'bench/t/1' },
    previous: [],
    dependencies: [],
    git: { repo, worktree, ref: 'refs/swarm/bench/t/1', message: 'bench' },
    conflict: null,
    integration: null,
    resolve: null,
    sandbox: { ...NO_SANDBOX, mode: 'workspace', network: 'none' },
  } as Assignment;
}

/** Times one `true` through runShell, ms; throws if it did not exit 0. */
async function timeTrue(dir: string, sandbox: Sandbox | null): Promise<number> {
  const log = path.join(dir, 'out.log');
  const t = performance.now();
  const exit = await runShell({
    command: 'true',
    cwd: sandbox ? path.join(dir, 'repo/wt') : dir,
    env: sandbox ? sandbox.env() : { ...process.env },
    sandbox,
    stdout: log,
    stderr: log,
    signal: new AbortController().signal,
    killGraceMs: 1000,
  });
  const ms = performance.now() - t;
  if (exit.kind !== 'exited' || exit.exitCode !== 0)
    throw new Error(`true failed: ${JSON.stringify(exit)} (${fs.readFileSync(log, 'utf8')})`);
  return ms;
}

export async function sandboxOverhead(o: BenchOptions): Promise<BenchResult> {
  const began = Date.now();
  const repeats = o.quick ? 50 : 300;
  const problem = bubblewrapProblem();
  if (problem) throw new Error(problem);
  const dir = tempDir('sandbox');
  try {
    const repo = path.join(dir, 'repo');
    const worktree = path.join(repo, 'wt');
    const runDir = path.join(repo, '.swarm/runs/bench');
    fs.mkdirSync(worktree, { recursive: true });
    fs.mkdirSync(path.join(repo, '.git'));
    fs.mkdirSync(runDir, { recursive: true });
    const a = assignmentIn(repo, worktree, runDir);
    const build: number[] = [];
    let sandbox: Sandbox | null = null;
    for (let i = 0; i < repeats; i++) {
      const t = performance.now();
      const s = Sandbox.forAttempt(a);
      build.push(performance.now() - t);
      if (!s.ok || !s.value) throw new Error(s.ok ? 'no sandbox' : s.error);
      sandbox = s.value;
    }
    const preflight: number[] = [];
    for (let i = 0; i < Math.min(repeats, 30); i++) {
      const t = performance.now();
      bubblewrapProblem();
      preflight.push(performance.now() - t);
    }
    // Warm up both paths, then interleave so that load from other processes hits both alike.
    for (let i = 0; i < 10; i++) {
      await timeTrue(dir, null);
      await timeTrue(dir, sandbox);
    }
    const bare: number[] = [];
    const boxed: number[] = [];
    for (let i = 0; i < repeats; i++) {
      bare.push(await timeTrue(dir, null));
      boxed.push(await timeTrue(dir, sandbox));
    }
    o.log(`sandbox-overhead: ${repeats} pairs done`);
    const diff = median(boxed) - median(bare);
    return {
      name: 'sandbox-overhead',
      description: `\`true\` through the worker's runShell, bare and in an attempt's bwrap sandbox, ${repeats} interleaved pairs; building an attempt's Sandbox; the run's preflight`,
      params: { repeats },
      metrics: [
        metric('bare true: median', round(median(bare), 2), 'ms'),
        metric('bare true: p90', round(percentile(bare, 90), 2), 'ms'),
        metric('sandboxed true: median', round(median(boxed), 2), 'ms'),
        metric('sandboxed true: p90', round(percentile(boxed, 90), 2), 'ms'),
        metric('added per command (median)', round(diff, 2), 'ms', 20),
        metric('added per command (p90)', round(percentile(boxed, 90) - percentile(bare, 90), 2), 'ms'),
        metric("an attempt's Sandbox built (median)", round(median(build), 3), 'ms'),
        metric('preflight trial sandbox, once per run (median)', round(median(preflight), 2), 'ms'),
      ],
      notes: [
        'Both ways spawn /bin/sh -c true as runShell does (detached group leader, output appended to a file, the group killed after); the sandboxed one starts bwrap 0.8.0 with the mounts and namespaces of an attempt (src/worker/sandbox/bwrap.ts).',
        'An attempt pays the per-command figure once per process it starts (each bash call of an agent, a command task, verify, or a CLI backend once); building its Sandbox is negligible.',
      ],
      raw: { bare, boxed, build, preflight },
      elapsedMs: Date.now() - began,
    };
  } finally {
    removeDir(dir, o);
  }
}

if (isMain(import.meta.url)) await runStandalone('sandbox-overhead', sandboxOverhead);
