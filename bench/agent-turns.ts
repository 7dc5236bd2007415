// Benchmark 6: the built-in agent's cost per turn, against the fake Anthropic server. One agent
// task of N turns (each a `read_file`, then `finish`) runs under `swarm run`; the time from one
// request reaching the fake to the next is the agent's whole turn (the fake answers at once):
// SDK streaming parse, the loop, the tool, status.json and events, the next request. The reference,
// in the same run, is a bare SDK loop in this process sending the same growing conversation to the
// same fake: what a turn costs with no agent around it. Also reported: the share of input tokens
// the fake served from its cache model. No target: the issue asks for the numbers.
import fs from 'node:fs';
import path from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { FakeAnthropic, type FakeReply } from '../test/fixtures/fake-anthropic.js';
import {
  isMain,
  median,
  metric,
  percentile,
  removeDir,
  requireBuild,
  round,
  runStandalone,
  settle,
  tempDir,
  timed,
  CLI,
  type BenchOptions,
  type BenchResult,
} from './lib.js';

const KEY = 'sk-ant-bench';

/** Gaps between consecutive arrival times, ms. */
const gaps = (times: readonly number[]): number[] => times.slice(1).map((t, i) => t - times[i]!);

export async function agentTurns(options: BenchOptions): Promise<BenchResult> {
  requireBuild();
  const began = Date.now();
  const turns = options.quick ? 15 : 40;
  const repeats = 3;
  const dir = tempDir('agent');
  fs.writeFileSync(
    path.join(dir, 'README.md'),
    Array.from({ length: 200 }, (_, i) => `line ${i + 1} of a readme that the agent reads in pieces`).join('\n'),
  );
  fs.writeFileSync(
    path.join(dir, 'swarm.yaml'),
    `version: 1\nworkers: 1\ngit:\n  isolation: none\nroles:\n  coder:\n    backend: anthropic\n    max_turns: ${turns + 5}\ntasks:\n  - id: reader\n    role: coder\n    description: Read the README in pieces, then finish.\n`,
  );
  // Turn k reads a different slice (the same call three times in a row would be a loop).
  const reply = (k: number): FakeReply =>
    k === turns - 1
      ? { content: [{ type: 'tool_use', name: 'finish', input: { summary: 'read it' } }] }
      : {
          content: [{ type: 'tool_use', name: 'read_file', input: { path: 'README.md', offset: 1 + 5 * k, limit: 5 } }],
        };

  const agentGaps: number[] = [];
  const sdkGaps: number[] = [];
  let cacheShare = 0;
  for (let r = 0; r < repeats; r++) {
    // The agent under swarm run.
    await settle();
    const arrived: number[] = [];
    const fake = await FakeAnthropic.start({ apiKey: KEY });
    fake.addRules({
      match: () => true,
      times: Infinity,
      reply: (q) => (
        arrived.push(performance.now()),
        reply((q.body.messages as { role: string }[]).filter((m) => m.role === 'assistant').length)
      ),
    });
    const runDir = path.join(dir, `run-${r}`);
    const t = await timed(process.execPath, [CLI, 'run', 'swarm.yaml', '--run-dir', runDir, '--no-dashboard'], {
      cwd: dir,
      env: { ...process.env, NO_COLOR: '1', ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: fake.url },
      quietStdout: true,
    });
    if (t.code !== 0) throw new Error(`swarm run exited ${t.code}: ${t.stderr.slice(-1000)}`);
    if (arrived.length !== turns) throw new Error(`expected ${turns} requests, got ${arrived.length}`);
    agentGaps.push(...gaps(arrived));
    cacheShare = fake.cacheStats().cacheShare;
    // The reference: the same conversation from a bare SDK loop (the requests the agent sent).
    const sent = fake.requests.map((q) => q.body as Anthropic.Messages.MessageCreateParamsNonStreaming);
    await fake.close();
    removeDir(runDir, options);
    await settle();
    const ref = await FakeAnthropic.start({ apiKey: KEY });
    const refArrived: number[] = [];
    ref.addRules({
      match: () => true,
      times: Infinity,
      reply: (q) => (
        refArrived.push(performance.now()),
        reply((q.body.messages as { role: string }[]).filter((m) => m.role === 'assistant').length)
      ),
    });
    const client = new Anthropic({ apiKey: KEY, baseURL: ref.url, maxRetries: 0 });
    for (const body of sent) await client.messages.stream(body).finalMessage();
    sdkGaps.push(...gaps(refArrived));
    await ref.close();
    options.log(
      `  repeat ${r + 1}: agent turn median ${median(gaps(arrived)).toFixed(1)} ms, bare SDK ${median(gaps(refArrived)).toFixed(1)} ms`,
    );
  }
  removeDir(dir, options);
  const agentMedian = median(agentGaps);
  const sdkMedian = median(sdkGaps);
  return {
    name: 'agent-turns',
    description: `one agent of ${turns} turns (read_file, then finish) against the fake server: time per turn vs a bare SDK loop sending the same requests, ${repeats} repeats`,
    params: { turns, repeats },
    metrics: [
      metric('agent turn (median)', round(agentMedian, 1), 'ms'),
      metric('agent turn (p90)', round(percentile(agentGaps, 90), 1), 'ms'),
      metric('bare SDK turn (median)', round(sdkMedian, 1), 'ms'),
      metric('agent overhead per turn', round(agentMedian - sdkMedian, 1), 'ms'),
      metric('input tokens from the cache', round(100 * cacheShare, 1), '%'),
    ],
    notes: [
      'A turn here is request → answer (the fake answers at once) → the agent parses it, runs read_file, writes status.json, events.jsonl and transcript.jsonl → the next request. The bare SDK loop does only the request and the parse, in the benchmark process (which also hosts the fake); the agent runs in a worker process.',
      `The cache share is the fake's model of prompt caching (characters / 4 per token, prefix hashes), not Anthropic's billing; real turns are dominated by the model's own latency (seconds), next to which ${round(agentMedian - sdkMedian, 1)} ms is what fileswarm adds.`,
    ],
    raw: { agentGaps, sdkGaps },
    elapsedMs: Date.now() - began,
  };
}

if (isMain(import.meta.url)) await runStandalone('agent-turns', agentTurns);
