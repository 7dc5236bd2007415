// Benchmark 7: what fileswarm adds to an agent CLI's attempt. For each CLI backend (Claude Code,
// Codex, Gemini CLI), the same scripted conversation (N turns of a `true` shell command, then a last
// answer) against the project's fake model server runs two ways in the same benchmark run:
// - under `swarm run` (one task, one worker, git worktree isolation): the attempt's duration from
//   its result.json (worktree, the CLI, parsing its stream into events and status, the commit);
// - by hand: the same CLI with the same invocation (argv, environment, prompt) spawned directly in
//   a git repository, its stdout read and dropped, timed from spawn to exit.
// The ratio of the two is what fileswarm adds (the target: under 5 % of the attempt's wall
// time), with the fake answering at once (the CLI's own work only: the worst case for the ratio)
// and after 1 s a request (closer to a real model). Also reported: the worker's peak memory beside
// the CLI's (VmHWM, all its processes).
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { CLI_RULES } from '../src/worker/backends/cli/prompt.js';
import type { CliInvocation, CliInvocationInput } from '../src/worker/backends/cli/invocation.js';
import { locateCli } from '../src/worker/backends/cli/locate.js';
import { claudeCodeInvocation } from '../src/worker/backends/claude-code/invocation.js';
import { codexInvocation } from '../src/worker/backends/codex/invocation.js';
import { geminiInvocation } from '../src/worker/backends/gemini/invocation.js';
import { FakeAnthropic } from '../test/fixtures/fake-anthropic.js';
import { FakeGemini } from '../test/fixtures/fake-gemini.js';
import { FakeOpenAI } from '../test/fixtures/fake-openai.js';
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
  timed,
  type BenchOptions,
  type BenchResult,
  type Metric,
} from './lib.js';

/** A fake server answering every request of a conversation by its turn. */
interface Fake {
  url: string;
  requests: number;
  close(): Promise<void>;
}

/** What differs between the CLIs. */
interface CliCase {
  backend: 'claude-code' | 'codex' | 'gemini';
  bin: string;
  model: string;
  keyEnv: string;
  args: string[];
  invocation(input: CliInvocationInput): CliInvocation;
  /** Starts a fake answering turn k < turns-1 with a `true` command, then a last answer, each after `latencyMs`. */
  fake(turns: number, latencyMs: number): Promise<Fake>;
}

const KEY = 'bench-key';

/**
 * How long the fake takes to answer each request, ms: 0 (the worst case for the ratio: the CLI's
 * own work only) and 1000 (closer to a real model, whose answers take seconds).
 */
const LATENCIES = [0, 1000];

const CASES: CliCase[] = [
  {
    backend: 'claude-code',
    bin: 'claude',
    model: 'claude-sonnet-5-5',
    keyEnv: 'ANTHROPIC_API_KEY',
    args: [],
    invocation: claudeCodeInvocation,
    fake: async (turns, latencyMs) => {
      const f = await FakeAnthropic.start({ apiKey: KEY });
      f.addRules({
        match: () => true,
        times: Infinity,
        reply: (q) =>
          (q.body.messages as { role: string }[]).filter((m) => m.role === 'assistant').length < turns - 1
            ? {
                content: [{ type: 'tool_use', name: 'Bash', input: { command: 'true', description: 'noop' } }],
                delay_ms: latencyMs,
              }
            : { content: [{ type: 'text', text: 'done' }], delay_ms: latencyMs },
      });
      return {
        url: f.url,
        close: () => f.close(),
        get requests() {
          return f.requests.length;
        },
      };
    },
  },
  {
    backend: 'codex',
    bin: 'codex',
    model: 'gpt-5.5',
    keyEnv: 'OPENAI_API_KEY',
    args: [
      '-c',
      'model_providers.fileswarm.request_max_retries=0',
      '-c',
      'model_providers.fileswarm.stream_max_retries=0',
    ],
    invocation: codexInvocation,
    fake: async (turns, latencyMs) => {
      const f = await FakeOpenAI.start({ apiKey: KEY });
      f.addRules({
        match: () => true,
        times: Infinity,
        reply: (q) =>
          ((q.body.input ?? []) as { type?: string }[]).filter((i) => i.type === 'function_call_output').length <
          turns - 1
            ? {
                output: [{ type: 'function_call', name: 'exec_command', arguments: { cmd: 'true' } }],
                delay_ms: latencyMs,
              }
            : { output: [{ type: 'message', text: 'done' }], delay_ms: latencyMs },
      });
      return {
        url: f.url,
        close: () => f.close(),
        get requests() {
          return f.requests.length;
        },
      };
    },
  },
  {
    backend: 'gemini',
    bin: 'gemini',
    model: 'gemini-2.5-flash',
    keyEnv: 'GEMINI_API_KEY',
    args: [],
    invocation: geminiInvocation,
    fake: async (turns, latencyMs) => {
      const f = await FakeGemini.start({ apiKey: KEY });
      f.addRules({
        match: () => true,
        times: Infinity,
        reply: (q) =>
          (q.body.contents ?? []).filter((c: { role?: string }) => c.role === 'model').length < turns - 1
            ? {
                parts: [{ functionCall: { name: 'run_shell_command', args: { command: 'true' } } }],
                delay_ms: latencyMs,
              }
            : { parts: [{ text: 'done' }], delay_ms: latencyMs },
      });
      return {
        url: f.url,
        close: () => f.close(),
        get requests() {
          return f.requests.filter((r) => r.conversation).length;
        },
      };
    },
  },
];

/** A git repository with one commit, for an attempt to run in. */
function gitRepo(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'README.md'), '# bench\n');
  const git = (...args: string[]): void => {
    spawnSync('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@example.com', ...args], { cwd: dir });
  };
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-qm', 'initial');
  return dir;
}

/** Peak memory (VmHWM, KiB) of the processes `match` names, summed by kind; /proc polled every `everyMs`. */
function memoryWatch(match: (pid: number) => 'worker' | 'cli' | null, everyMs = 100) {
  const peak = new Map<number, { kind: 'worker' | 'cli'; hwm: number }>();
  const poll = (): void => {
    for (const entry of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const pid = Number(entry);
      let kind: 'worker' | 'cli' | null;
      try {
        kind = match(pid);
      } catch {
        continue;
      }
      if (!kind) continue;
      try {
        const hwm = Number(/VmHWM:\s*(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
        peak.set(pid, { kind, hwm: Math.max(hwm, peak.get(pid)?.hwm ?? 0) });
      } catch {
        // exited
      }
    }
  };
  const timer = setInterval(poll, everyMs);
  return {
    stop(): { workerKiB: number; cliKiB: number } {
      clearInterval(timer);
      let workerKiB = 0;
      let cliKiB = 0;
      for (const p of peak.values()) {
        if (p.kind === 'worker') workerKiB += p.hwm;
        else cliKiB += p.hwm;
      }
      return { workerKiB, cliKiB };
    },
  };
}

const read = (file: string): string => {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
};

/** One attempt under `swarm run`: its duration (result.json) and prompt, and peak memory. */
async function underSwarm(c: CliCase, turns: number, latencyMs: number, dir: string) {
  const fake = await c.fake(turns, latencyMs);
  const repo = gitRepo(path.join(dir, 'repo'));
  fs.writeFileSync(
    path.join(repo, 'swarm.yaml'),
    JSON.stringify({
      version: 1,
      workers: 1,
      roles: {
        agent: {
          backend: c.backend,
          // The benchmark runs a snapshot of the build outside the project: name the project's CLI.
          command: locateCli(c.bin, undefined, repo, process.env.PATH)!,
          model: c.model,
          base_url: fake.url,
          args: c.args,
          max_turns: turns + 5,
        },
      },
      tasks: [{ id: 'work', role: 'agent', description: 'Run `true` a few times, then say done.' }],
    }),
  );
  const runDir = path.join(dir, 'run');
  const marker = Buffer.from(`\0SWARM_RUN_DIR=${runDir}\0`);
  const watch = memoryWatch((pid) => {
    const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (cmd.includes('\0worker\0') && cmd.includes(runDir)) return 'worker';
    return Buffer.concat([Buffer.from([0]), fs.readFileSync(`/proc/${pid}/environ`)]).includes(marker) ? 'cli' : null;
  });
  const t = await timed(process.execPath, [CLI, 'run', 'swarm.yaml', '--run-dir', runDir, '--no-dashboard'], {
    cwd: repo,
    env: { ...process.env, NO_COLOR: '1', [c.keyEnv]: KEY },
    quietStdout: true,
  });
  const memory = watch.stop();
  const requests = fake.requests;
  await fake.close();
  if (t.code !== 0) throw new Error(`${c.backend}: swarm run exited ${t.code}: ${t.stderr.slice(-1500)}`);
  if (requests !== turns) throw new Error(`${c.backend}: expected ${turns} requests, got ${requests}`);
  const attempt = path.join(runDir, 'tasks/work/1');
  const result = JSON.parse(read(path.join(attempt, 'result.json'))) as { duration_ms: number };
  const prompt = read(path.join(attempt, 'prompt.md')).split('\n\n---\n\n').slice(1).join('\n\n---\n\n').trimEnd();
  return { attemptMs: result.duration_ms, prompt, ...memory };
}

/** The same conversation with the CLI spawned by hand: wall time from spawn to exit. */
async function byHand(c: CliCase, turns: number, latencyMs: number, dir: string, prompt: string): Promise<number> {
  const fake = await c.fake(turns, latencyMs);
  const repo = gitRepo(path.join(dir, 'hand-repo'));
  const home = path.join(dir, 'hand-home');
  fs.mkdirSync(path.join(home, 'tmp'), { recursive: true });
  const inv = c.invocation({
    command: locateCli(c.bin, undefined, repo, process.env.PATH)!,
    prompt,
    instructions: CLI_RULES,
    model: c.model,
    maxTurns: turns + 5,
    maxCostUsd: null,
    baseUrl: fake.url,
    apiKey: { variable: c.keyEnv, value: KEY },
    home,
    sessionId: randomUUID(),
    extraArgs: c.args,
    passEnv: { PATH: process.env.PATH ?? '/usr/bin:/bin', TMPDIR: path.join(home, 'tmp') },
  });
  for (const [f, content] of Object.entries(inv.files)) {
    fs.mkdirSync(path.dirname(f), { recursive: true });
    fs.writeFileSync(f, content);
  }
  const start = process.hrtime.bigint();
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(inv.file, inv.args, { cwd: repo, env: inv.env, stdio: ['ignore', 'pipe', 'ignore'] });
    child.stdout.resume();
    child.on('error', reject);
    child.on('close', (c) => resolve(c));
  });
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  const requests = fake.requests;
  await fake.close();
  if (code !== 0) throw new Error(`${c.backend}: the CLI by hand exited ${code}`);
  if (requests !== turns) throw new Error(`${c.backend} by hand: expected ${turns} requests, got ${requests}`);
  return wallMs;
}

export async function cliOverhead(options: BenchOptions): Promise<BenchResult> {
  requireBuild();
  const began = Date.now();
  const turns = options.quick ? 3 : 6;
  const repeats = options.quick ? 1 : 3;
  const metrics: Metric[] = [];
  const raw: Record<string, unknown> = {};
  for (const latency of LATENCIES)
    for (const c of CASES) {
      let prompt = '';
      const swarm: number[] = [];
      const hand: number[] = [];
      const worker: number[] = [];
      const cli: number[] = [];
      for (let r = 0; r < repeats; r++) {
        const dir = tempDir(`cli-${c.backend}`);
        const runSwarm = async (): Promise<void> => {
          await settle(500);
          const s = await underSwarm(c, turns, latency, path.join(dir, 'swarm'));
          swarm.push(s.attemptMs);
          worker.push(s.workerKiB);
          cli.push(s.cliKiB);
          prompt = s.prompt;
        };
        const runHand = async (): Promise<void> => {
          await settle(500);
          hand.push(await byHand(c, turns, latency, path.join(dir, 'hand'), prompt));
        };
        // Alternate which goes first, so drift of the machine falls on both. The prompt by hand is
        // the one the swarm attempt was given (the same in every repeat: task `work`, attempt 1).
        if (r % 2 === 0) {
          await runSwarm();
          await runHand();
        } else {
          await runHand();
          await runSwarm();
        }
        options.log(
          `  ${c.backend}, ${latency} ms a request, repeat ${r + 1}: attempt under swarm ${swarm.at(-1)!.toFixed(0)} ms, by hand ${hand.at(-1)!.toFixed(0)} ms`,
        );
        removeDir(dir, options);
      }
      const label = `${c.backend}, ${latency} ms`;
      const s = median(swarm);
      const h = median(hand);
      metrics.push(
        metric(`${label}: attempt under swarm (median)`, round(s, 0), 'ms'),
        metric(`${label}: the CLI by hand (median)`, round(h, 0), 'ms'),
        metric(`${label}: added by fileswarm`, round(s - h, 0), 'ms'),
        metric(`${label}: overhead`, round((100 * (s - h)) / h, 1), '%', 5),
        metric(`${label}: worker peak memory`, round(median(worker) / 1024, 1), 'MiB'),
        metric(`${label}: CLI peak memory (all its processes)`, round(median(cli) / 1024, 1), 'MiB'),
      );
      raw[label] = { swarm, hand, worker, cli };
    }
  return {
    name: 'cli-overhead',
    description: `each agent CLI on a ${turns}-turn script (a \`true\` command per turn) against its fake server answering at once and after 1 s: the attempt under swarm run vs the same CLI and invocation spawned by hand, ${repeats} repeats`,
    params: { turns, repeats, latencies: LATENCIES },
    metrics,
    notes: [
      'The attempt under swarm includes what fileswarm adds: the worktree, writing prompt.md and status.json, parsing the stream into events.jsonl, tailing Codex’s and Gemini’s session files, killing the group at the end, and the commit. By hand: spawn to exit, stdout read and dropped.',
      'Against a fake that answers at once, a CLI attempt takes seconds; with a real model each turn takes seconds more, so the share fileswarm adds is smaller in real use than here.',
      'Memory is VmHWM summed over the processes of each kind: the worker (one Node process) and the CLI with every process carrying the attempt’s marker (its shell commands included).',
    ],
    raw,
    elapsedMs: Date.now() - began,
  };
}

if (isMain(import.meta.url)) await runStandalone('cli-overhead', cliOverhead);
