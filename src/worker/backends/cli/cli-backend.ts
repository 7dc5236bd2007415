// Runs one attempt with an agent CLI: finds the CLI, builds its invocation (argv, an environment
// built from nothing, its own configuration home inside the attempt directory), starts it as the
// leader of its own process group with stdin closed, parses its stream line by line into the
// attempt's events and status, stops the whole group when a cap is crossed or the attempt must
// stop, and turns how it ended into an outcome.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import type { AgentSpec, AttemptReason } from '../../../protocol/schemas.js';
import { totalTokens, ZERO_USAGE } from '../../../protocol/usage.js';
import { ATTEMPT_MARKER } from '../../../protocol/attempt-marker.js';
import { FileTail } from '../../../util/file-tail.js';
import { killByEnvMarker, killGroup } from '../../../util/process.js';
import { unreachable } from '../../../util/unreachable.js';
import { MAX_ARG_STRLEN, spawnFailure } from '../../../util/exec-limits.js';
import {
  stoppedOutcome,
  type AttemptContext,
  type AttemptEvent,
  type Backend,
  type BackendOutcome,
  type StopReason,
} from '../backend.js';
import type { CliSettings } from './descriptor.js';
import type { CliInvocation, CliInvocationInput } from './invocation.js';
import { locateCli } from './locate.js';
import { CLI_RULES, cliPrompt } from './prompt.js';
import type { CliStream, CliStreamSink } from './stream.js';
import type { ModelPrice } from '../../../llm/prices.js';

/** What one CLI contributes to the runner. `S` is its stream parser's type. */
export interface CliKit<S extends CliStream = CliStream> {
  /** The backend's name (its key in assignment.json `agent`). */
  name: string;
  /** The CLI's usual executable name, looked up when the role gives no `command`. */
  bin: string;
  /** Builds the CLI's argv, environment and configuration files. */
  invocation(input: CliInvocationInput): CliInvocation;
  /** A parser of its stdout. */
  stream(opts: { model: string; price: ModelPrice; sink: CliStreamSink }): S;
  /**
   * Files the CLI appends usage to while it runs, for a CLI whose stdout reports usage only at the
   * end (Gemini CLI's chat recordings): the runner tails them every {@link RECORD_POLL_MS} and gives
   * each new complete line to `push`, so a cap is checked after each model request.
   */
  usageRecords?: { files(input: CliInvocationInput): string[]; push(stream: S, line: string): void };
}

/** Why the runner stopped the CLI itself: a cap it crossed, or an error it would retry in vain. */
interface CapStop {
  reason: AttemptReason;
  summary: string;
}

/** Time to wait for the CLI's stdout to close after it exited (a grandchild may hold it), ms. */
const DRAIN_MS = 2000;

/** How often the runner reads a CLI's usage records, ms. */
const RECORD_POLL_MS = 200;

/**
 * How long a CLI whose usage crossed a cap with an answer of text only may take to end, ms: that
 * answer may be its last (then it stands, as the built-in agent's does); a tool call stops it at once.
 */
const CAP_GRACE_MS = 2000;

/** How long a CLI may take to exit after its final line before it is stopped, ms (Claude Code can hang there). */
const EXIT_GRACE_MS = 10_000;

/** An agent-CLI backend: one instance per CLI, built from its kit. */
export class CliBackend<S extends CliStream = CliStream> implements Backend {
  readonly #kit: CliKit<S>;

  constructor(kit: CliKit<S>) {
    this.#kit = kit;
  }

  async run(ctx: AttemptContext): Promise<BackendOutcome> {
    const kit = this.#kit;
    const a = ctx.assignment;
    const none = { exit_code: null, signal: null, usage: { ...ZERO_USAGE }, turns: 0, session: null };
    const spec = a.agent;
    const settings = spec?.[kit.name as keyof AgentSpec] as CliSettings | undefined;
    if (!spec || !settings)
      return {
        ...none,
        outcome: 'failed',
        reason: 'spawn-failed',
        summary: `the assignment has no settings for this backend (agent.${kit.name})`,
      };
    // The repository, as preflight resolved the CLI against it: with git isolation `git.repo`; in
    // place, the workspace is the repository joined with the task's `cwd`.
    const repo = a.git?.repo ?? (a.task.cwd ? workspaceRoot(a.workspace, a.task.cwd) : a.workspace);
    const file = locateCli(kit.bin, settings.command ?? undefined, repo, ctx.env.PATH);
    if (!file)
      return {
        ...none,
        outcome: 'failed',
        reason: 'spawn-failed',
        summary: `${kit.name}: the CLI (${settings.command ?? kit.bin}) is not installed on this worker's host`,
      };
    const key = ctx.env[settings.api_key_env];
    if (!key)
      return {
        ...none,
        outcome: 'failed',
        reason: 'api-error',
        summary: `${kit.name}: the environment variable ${settings.api_key_env} (the API key) is not set`,
      };

    const home = path.join(ctx.paths.dir, 'home');
    // Its temporary files too (Gemini CLI writes a request's contents to os.tmpdir() on an API error).
    const tmp = path.join(home, 'tmp');
    fs.mkdirSync(tmp, { recursive: true });
    const prompt = cliPrompt(a);
    const instructions = CLI_RULES;
    fs.writeFileSync(ctx.paths.prompt, `${instructions}\n\n---\n\n${prompt}\n`);
    const passEnv: Record<string, string> = {};
    if (ctx.env.PATH) passEnv.PATH = ctx.env.PATH;
    passEnv.TMPDIR = tmp;
    for (const name of settings.pass_env) {
      const value = process.env[name];
      if (value !== undefined) passEnv[name] = value;
    }
    // The role's and the task's `env`, and SWARM_* (the attempt's marker among them).
    Object.assign(passEnv, a.env);
    const input: CliInvocationInput = {
      command: file,
      prompt,
      instructions,
      model: spec.model,
      maxTurns: spec.max_turns,
      maxCostUsd: spec.max_cost_usd,
      baseUrl: settings.base_url,
      apiKey: { variable: settings.api_key_env, value: key },
      home,
      sessionId: crypto.randomUUID(),
      extraArgs: settings.args,
      passEnv,
    };
    const inv = kit.invocation(input);
    for (const [f, content] of Object.entries(inv.files)) {
      fs.mkdirSync(path.dirname(f), { recursive: true });
      fs.writeFileSync(f, content);
    }

    // Linux refuses one argument over 128 KiB (MAX_ARG_STRLEN), and the CLIs take the prompt as one.
    const argBytes = Math.max(...inv.args.map((x) => Buffer.byteLength(x)));
    if (argBytes >= MAX_ARG_STRLEN)
      return {
        ...none,
        outcome: 'failed',
        reason: 'spawn-failed',
        summary: `${kit.name}: the prompt is ${Math.round(argBytes / 1024)} KiB, over the 128 KiB Linux allows one argument (shorten the task's description, goal or instructions)`,
      };

    let capStop: CapStop | undefined;
    /** A cap the stream showed crossed while the CLI's last output was text: maybe its final answer. */
    let pendingCap: CapStop | undefined;
    let capTimer: NodeJS.Timeout | undefined;
    /** The kind of the last message, tool call or tool result the stream showed. */
    let lastKind: AttemptEvent['type'] | undefined;
    const internal = new AbortController();
    const fire = (c: CapStop): void => {
      clearTimeout(capTimer);
      pendingCap = undefined;
      if (capStop || stream.state.end) return;
      capStop = c;
      ctx.emit({ type: 'error', text: c.summary });
      internal.abort();
    };
    const sink: CliStreamSink = {
      emit: (e) => {
        ctx.emit(e);
        if (e.type === 'message' || e.type === 'tool_call' || e.type === 'tool_result') lastKind = e.type;
        // It went on working past the cap: stop it now.
        if (pendingCap && e.type === 'tool_call') fire(pendingCap);
      },
      progress: ctx.progress,
    };
    const stream = kit.stream({ model: spec.model, price: spec.price, sink });
    const checkCaps = (): void => {
      // Once the CLI has said how it ended, its last figures decide nothing: a finished answer stands.
      if (capStop || pendingCap || stream.state.end) return;
      const fatal = stream.state.fatal;
      if (fatal) return fire({ reason: 'api-error', summary: `${kit.name}: ${fatal}` });
      const crossed = crossedCap(spec, stream);
      if (!crossed) return;
      // An answer of text only may be the last: the built-in agent lets a final answer stand, so
      // the CLI gets CAP_GRACE_MS to end; a tool call meanwhile stops it at once.
      if (lastKind === 'message') {
        pendingCap = crossed;
        capTimer = setTimeout(() => fire(crossed), CAP_GRACE_MS);
      } else fire(crossed);
    };

    const raw = fs.openSync(ctx.paths.stdout, 'a');
    const stderr = fs.openSync(ctx.paths.stderr, 'a');
    // In a sandbox, the CLI itself runs inside it (and with it whatever it starts), with its home
    // writable and the network on: it needs its model API, which a host allowlist cannot yet single out.
    const sandbox = ctx.sandbox?.widened({ writable: [home], network: 'allow' });
    const launch = sandbox ? sandbox.wrap(inv.file, inv.args, ctx.workspace) : { file: inv.file, args: inv.args };
    let child: ChildProcess;
    try {
      child = spawn(launch.file, launch.args, {
        cwd: ctx.workspace,
        env: inv.env,
        detached: true,
        stdio: ['ignore', 'pipe', stderr],
      });
    } catch (e) {
      fs.closeSync(raw);
      fs.closeSync(stderr);
      const why = spawnFailure(e as Error, launch.file, launch.args, inv.env);
      return { ...none, outcome: 'failed', reason: 'spawn-failed', summary: `${kit.name}: ${why}` };
    }
    fs.closeSync(stderr); // the child has its own copy
    let gone = false;
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null } | { error: Error }>((resolve) => {
      child.once('error', (error) => resolve({ error }));
      child.once('exit', (code, signal) => resolve({ code, signal }));
    }).finally(() => (gone = true));
    const pgid = child.pid;
    // The CLI's group, and the processes that left it (Gemini CLI and Claude Code run each shell
    // command in a session of its own): all carry the attempt's marker.
    const marker = a.env[ATTEMPT_MARKER];
    const killAll = async (): Promise<void> => {
      if (pgid !== undefined) await killGroup(pgid, a.kill_grace_ms);
      if (marker) killByEnvMarker(ATTEMPT_MARKER, marker);
    };
    let stopping: Promise<void> | undefined;
    /** Stops the CLI (once); after it exited, its leftovers are killed by the code below. */
    const stop = (): void => {
      if (!gone) stopping ??= killAll();
    };
    /** After its final line, a CLI that does not exit within EXIT_GRACE_MS is stopped. */
    let exitTimer: NodeJS.Timeout | undefined;
    const watchEnd = (): void => {
      if (stream.state.end && !exitTimer) exitTimer = setTimeout(stop, EXIT_GRACE_MS);
    };
    const lines = readline.createInterface({ input: child.stdout!, crlfDelay: Infinity });
    const drained = new Promise<void>((resolve) => lines.once('close', resolve));
    const records = kit.usageRecords;
    const tails = new Map<string, FileTail>();
    const readRecords = (): void => {
      if (!records) return;
      for (const f of records.files(input)) {
        let t = tails.get(f);
        if (!t) tails.set(f, (t = new FileTail(f)));
        for (const line of t.read()) records.push(stream, line);
      }
    };
    let poll: NodeJS.Timeout | undefined;
    // A failure of fileswarm's own below (a full disk) must not leave the CLI running: it is logged,
    // the CLI stopped, and the attempt ends with what the stream showed.
    const guard = (what: string, f: () => void): void => {
      try {
        f();
      } catch (e) {
        ctx.log.error({ err: e }, `${what} failed`);
        stop();
      }
    };
    let res: { code: number | null; signal: NodeJS.Signals | null } | { error: Error };
    try {
      if (pgid !== undefined) {
        ctx.onSpawn(pgid);
        ctx.emit({
          type: 'log',
          text: `started ${path.basename(inv.file)} (pgid ${pgid}${sandbox ? ', in a sandbox with network' : ''})`,
        });
      }
      if (ctx.signal.aborted) stop();
      ctx.signal.addEventListener('abort', stop, { once: true });
      internal.signal.addEventListener('abort', stop, { once: true });
      lines.on('line', (line) =>
        guard('reading the stream', () => {
          fs.writeSync(raw, line + '\n');
          stream.push(line);
          checkCaps();
          watchEnd();
        }),
      );
      if (records)
        poll = setInterval(
          () =>
            guard('reading usage records', () => {
              readRecords();
              checkCaps();
            }),
          RECORD_POLL_MS,
        );
      res = await exited;
    } catch (e) {
      stop();
      res = { error: e as Error };
    } finally {
      clearInterval(poll);
      clearTimeout(capTimer);
      clearTimeout(exitTimer);
      ctx.signal.removeEventListener('abort', stop);
    }
    // Whatever the CLI left running goes with it.
    await (stopping ?? killAll());
    await Promise.race([drained, new Promise((r) => setTimeout(r, DRAIN_MS).unref())]);
    lines.close();
    child.stdout?.destroy(); // a process that kept it open (one without the marker) holds it no more
    fs.closeSync(raw);
    // What the CLI recorded last, between the previous poll and its exit (its usage, its turns).
    guard('reading usage records', readRecords);

    const s = stream.state;
    const spent = { usage: s.usage, turns: s.turns, session: s.sessionId };
    if ('error' in res)
      return {
        ...spent,
        exit_code: null,
        signal: null,
        outcome: 'failed',
        reason: 'spawn-failed',
        summary: `${kit.name}: ${spawnFailure(res.error, launch.file, launch.args, inv.env)}`,
      };
    const exit = { exit_code: res.code, signal: res.signal };
    // A CLI that said it succeeded and was then stopped (it did not exit, or a stop came late) did
    // its work: the success stands.
    const end = s.end;
    const stoppedByUs = stopping !== undefined;
    if (end?.kind === 'success' && (res.code === 0 || stoppedByUs))
      return {
        ...spent,
        ...exit,
        outcome: 'succeeded',
        reason: 'finished',
        summary: end.summary.trim() ? oneLine(end.summary) : s.lastText ? oneLine(s.lastText) : 'finished',
      };
    if (ctx.signal.aborted)
      return { ...spent, ...exit, ...stoppedOutcome(ctx.signal.reason as StopReason, a.timeout_ms) };
    if (capStop) return { ...spent, ...exit, outcome: 'failed', ...capStop };
    if (!end) {
      const last = s.errors.at(-1);
      if (res.signal)
        return {
          ...spent,
          ...exit,
          outcome: 'failed',
          reason: 'killed-by-signal',
          summary: `${kit.name} was killed by ${res.signal}`,
        };
      return {
        ...spent,
        ...exit,
        outcome: 'failed',
        reason: res.code === 0 ? 'api-error' : 'exit-non-zero',
        summary: `${kit.name} exited ${res.code} without a result${last ? `: ${last}` : ''}`,
      };
    }
    switch (end.kind) {
      case 'success': // it exited non-zero by itself after saying it succeeded
        return {
          ...spent,
          ...exit,
          outcome: 'failed',
          reason: 'exit-non-zero',
          summary: `${kit.name} reported success but exited ${res.code}`,
        };
      case 'max-turns':
        return { ...spent, ...exit, outcome: 'failed', reason: 'max-turns', summary: `${kit.name}: ${end.message}` };
      case 'budget':
        return {
          ...spent,
          ...exit,
          outcome: 'failed',
          reason: capReason(spec, 'cost'),
          summary: `${kit.name}: ${end.message}`,
        };
      case 'error':
        return { ...spent, ...exit, outcome: 'failed', reason: 'api-error', summary: `${kit.name}: ${end.message}` };
      default:
        return unreachable(end, 'CLI end');
    }
  }
}

/** `s` on one line, at most 500 characters (a result's summary). */
const oneLine = (s: string): string => {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > 500 ? `${t.slice(0, 500)}…` : t;
};

/** The reason an attempt stopped at a cap ends with: the run budget's share, or the role's own cap. */
function capReason(spec: AgentSpec, which: 'cost' | 'tokens'): AttemptReason {
  return spec.cap_source[which] === 'budget' ? 'budget-exhausted' : which === 'cost' ? 'max-cost' : 'max-tokens';
}

/**
 * The cap the CLI's usage so far has crossed, if any: cost (USD) or tokens (input + output + cache)
 * at or over the attempt's cap, or more model requests than `max_turns`. A CLI's usage is known only
 * after each request, so the attempt stops as soon as the stream shows the crossing: it may spend
 * up to one request past a cap (the built-in agent sizes its requests to stay under).
 */
function crossedCap(spec: AgentSpec, stream: CliStream): CapStop | undefined {
  const { usage, turns } = stream.state;
  if (spec.max_cost_usd !== null && usage.cost_usd >= spec.max_cost_usd)
    return {
      reason: capReason(spec, 'cost'),
      summary: `reached its cost cap: $${usage.cost_usd.toFixed(4)} of $${spec.max_cost_usd.toFixed(4)}; the CLI was stopped`,
    };
  if (spec.max_tokens !== null && totalTokens(usage) >= spec.max_tokens)
    return {
      reason: capReason(spec, 'tokens'),
      summary: `reached its token cap: ${totalTokens(usage)} of ${spec.max_tokens} tokens; the CLI was stopped`,
    };
  if (turns > spec.max_turns)
    return {
      reason: 'max-turns',
      summary: `made ${turns} model requests, over its ${spec.max_turns}; the CLI was stopped`,
    };
  return undefined;
}

/** The directory `cwd` (relative) was joined to, to give `workspace`. */
function workspaceRoot(workspace: string, cwd: string): string {
  const depth = path
    .normalize(cwd)
    .split(path.sep)
    .filter((p) => p && p !== '.').length;
  return path.resolve(workspace, ...Array<string>(depth).fill('..'));
}
