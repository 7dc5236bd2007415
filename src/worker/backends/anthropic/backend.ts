// The `anthropic` backend's implementation: the built-in agent (src/worker/agent/loop.ts) on
// @anthropic-ai/sdk, in the attempt's workspace, with the settings of its role (assignment.json
// `agent` and `agent.anthropic`). What the rest of fileswarm knows of it is ./descriptor.ts.
import fs from 'node:fs';
import { makeClient } from '../../../llm/client.js';
import { ZERO_USAGE } from '../../../protocol/usage.js';
import { runAgent } from '../../agent/loop.js';
import { firstMessage, GENERIC_SYSTEM, taskSystem } from '../../agent/prompt.js';
import { stoppedOutcome, type AttemptContext, type Backend, type BackendOutcome, type StopReason } from '../backend.js';

/** Runs the built-in agent on the task; the outcome carries the attempt's usage and turns. */
export class AnthropicBackend implements Backend {
  async run(ctx: AttemptContext): Promise<BackendOutcome> {
    const { assignment: a, paths } = ctx;
    const spec = a.agent;
    const none = { exit_code: null, signal: null, usage: { ...ZERO_USAGE }, turns: 0 };
    if (!spec)
      return {
        ...none,
        outcome: 'failed',
        reason: 'spawn-failed',
        summary: 'the assignment has no agent settings (agent: null)',
      };
    const settings = spec.anthropic;
    if (!settings)
      return {
        ...none,
        outcome: 'failed',
        reason: 'spawn-failed',
        summary: 'the assignment has no settings for this backend (agent.anthropic)',
      };
    const client = makeClient(settings, ctx.env);
    if (!client.ok) return { ...none, outcome: 'failed', reason: 'api-error', summary: client.error };

    const system: [string, string] = [GENERIC_SYSTEM, taskSystem(a)];
    const first = firstMessage(a);
    fs.writeFileSync(paths.prompt, `${system[0]}\n\n${system[1]}\n\n---\n\n${first}\n`);
    // The agent's commands do not get the API key: a command's output is sent to the model and
    // written to the run directory.
    // In a sandbox, they get the sandbox's environment, which has no key of any kind.
    const env = ctx.sandbox?.env() ?? { ...ctx.env };
    delete env[settings.api_key_env];
    const end = await runAgent({
      client: client.value,
      spec,
      settings,
      system,
      firstMessage: first,
      tools: {
        root: ctx.workspace,
        env,
        sandbox: ctx.sandbox,
        bashTimeoutMs: settings.bash_timeout_ms,
        killGraceMs: a.kill_grace_ms,
        bashLog: paths.bash,
        signal: ctx.signal,
        onSpawn: (pgid) => ctx.onSpawn(pgid),
      },
      signal: ctx.signal,
      transcript: paths.transcript,
      emit: ctx.emit,
      progress: ctx.progress,
      log: ctx.log,
    });
    const spent = { usage: end.usage, turns: end.turns, exit_code: null, signal: null };
    if (end.reason === 'stopped') return { ...spent, ...stoppedOutcome(ctx.signal.reason as StopReason, a.timeout_ms) };
    if (end.reason === 'finished') return { ...spent, outcome: 'succeeded', reason: 'finished', summary: end.summary };
    return { ...spent, outcome: 'failed', reason: end.reason, summary: end.summary };
  }
}
