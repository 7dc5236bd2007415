// The built-in agent loop, written by hand over `messages.stream` so the conversation is ours: it
// is written to transcript.jsonl as it grows, prompt-cache breakpoints are placed where we want
// them, and limits (turns, tokens, cost, repeated calls, context size) are checked every turn.
import fs from 'node:fs';
import type Anthropic from '@anthropic-ai/sdk';
import type { Logger } from 'pino';
import type { AgentSpec, AttemptReason, Usage } from '../../protocol/schemas.js';
import { addUsage, totalTokens, ZERO_USAGE } from '../../protocol/usage.js';
import { costOf, type TokenCounts } from '../../llm/prices.js';
import { askSized, cutOffBy, tokensOf, unfinishedToolUse, withRollingBreakpoint } from '../../llm/conversation.js';
import { CapReached, estimateTokens, responseCap } from '../../llm/response-cap.js';
import { ApiFailure } from '../../llm/retry.js';
import type { AnthropicSettings } from '../backends/anthropic/descriptor.js';
import type { AgentProgress, AttemptEvent } from '../backends/backend.js';
import { runTool, toolDefinitions, type ToolContext } from './tools.js';

/** The same tool call (name and input) this many times in a row ends the attempt (`loop-detected`). */
export const LOOP_REPEATS = 3;
/** Compact when the context reaches this share of the model's window. */
export const COMPACT_AT = 0.7;
/** The newest tool results kept whole when compacting (they are what the agent is working on). */
const KEEP_RECENT_RESULTS = 6;

type Param = Anthropic.Messages.MessageParam;
type Block = Anthropic.Messages.ContentBlockParam;

/** What the loop needs. */
export interface AgentRun {
  client: Anthropic;
  /** The backend-neutral settings: model, turns, caps, price. */
  spec: AgentSpec;
  /** The Messages API settings (assignment.json `agent.anthropic`): response length, context window, retries. */
  settings: AnthropicSettings;
  /** System prompt parts: generic (shared by every task), then the task's. */
  system: [string, string];
  firstMessage: string;
  tools: ToolContext;
  signal: AbortSignal;
  /** transcript.jsonl: every message appended as it is made. */
  transcript: string;
  emit(e: AttemptEvent): void;
  progress(p: AgentProgress): void;
  log: Logger;
}

/** How the loop ended. `reason` `finished` is success; `stopped` means the signal aborted it. */
export interface AgentEnd {
  reason: AttemptReason | 'stopped';
  summary: string;
  usage: Usage;
  turns: number;
}

const short = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n)}…` : s);
const clipLine = (s: string, n = 160): string => short(s.replace(/\s+/g, ' ').trim(), n);

/** Input of a tool call with long strings cut, for events (the transcript keeps it whole). */
function brief(input: unknown): unknown {
  if (!input || typeof input !== 'object') return input;
  return Object.fromEntries(
    Object.entries(input as Record<string, unknown>).map(([k, v]) => [k, typeof v === 'string' ? short(v, 300) : v]),
  );
}

/** One line saying what a tool call does, for status.json's activity. */
function activityOf(name: string, input: unknown): string {
  const a = (input ?? {}) as Record<string, unknown>;
  const arg = a.path ?? a.command ?? a.pattern ?? a.summary ?? '';
  return clipLine(`${name} ${typeof arg === 'string' ? arg : JSON.stringify(arg)}`);
}

/** A stable key of a tool call: its name and its input with object keys sorted. */
function callKey(name: string, input: unknown): string {
  const canon = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canon)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, canon((v as Record<string, unknown>)[k])]),
          )
        : v;
  return `${name}\0${JSON.stringify(canon(input))}`;
}

/**
 * Runs the agent until it calls `finish` (or answers without a tool call), reaches a limit, or
 * `signal` aborts. Never throws for API or tool failures: they end the attempt with a reason.
 */
export async function runAgent(r: AgentRun): Promise<AgentEnd> {
  const { spec, settings } = r;
  const tools = toolDefinitions();
  // Breakpoints 1-2: the tools, and the generic system part (shared by every task of every run);
  // 3: the end of the system prompt (this task); 4: the rolling one on the newest message.
  const toolParams = tools.map((t, i) =>
    i === tools.length - 1 ? { ...t, cache_control: { type: 'ephemeral' as const } } : t,
  );
  const system: Anthropic.Messages.TextBlockParam[] = [
    { type: 'text', text: r.system[0], cache_control: { type: 'ephemeral' } },
    { type: 'text', text: r.system[1], cache_control: { type: 'ephemeral' } },
  ];
  const messages: Param[] = [];
  const push = (m: Param): void => {
    messages.push(m);
    fs.appendFileSync(r.transcript, JSON.stringify(m) + '\n');
  };
  push({ role: 'user', content: [{ type: 'text', text: r.firstMessage }] });

  let usage: Usage = { ...ZERO_USAGE };
  let lastContext = 0; // tokens of the last request's prompt
  let repeats = 0;
  let lastKey = '';
  let turn = 0;
  /** The last answer stopped because the context window was full: compact before the next request. */
  let contextFull = false;
  const end = (reason: AgentEnd['reason'], summary: string): AgentEnd => ({ reason, summary, usage, turns: turn });
  const capReason = (which: 'cost' | 'tokens'): AttemptReason =>
    spec.cap_source[which] === 'budget' ? 'budget-exhausted' : which === 'cost' ? 'max-cost' : 'max-tokens';

  while (turn < spec.max_turns) {
    if (r.signal.aborted) return end('stopped', 'stopped');
    // Compact first, so the cap below is computed on what is sent.
    let compacted = 0;
    if (contextFull || lastContext > COMPACT_AT * settings.context_window) {
      compacted = compact(messages);
      if (compacted > 0) {
        r.emit({
          type: 'log',
          text: `context at ${lastContext} of ${settings.context_window} tokens${contextFull ? ' (the last answer filled the window)' : ''}: compacted ${compacted} older tool results`,
        });
        r.log.info({ turn, context: lastContext, compacted }, 'compacted the conversation');
      } else if (contextFull) {
        return end(
          'api-error',
          `the conversation fills the model's context window (${settings.context_window} tokens) and nothing is left to compact`,
        );
      }
      contextFull = false;
    }
    // Each try's length is capped so the caps cannot be crossed (src/llm/response-cap.ts), on what
    // is spent then (a try that failed midway was charged). After a compaction the cached prefix
    // ends early: price the whole prompt as a cache write.
    const promptTokens = estimateTokens(messages, ...r.system, tools);
    const cachedTokens = compacted > 0 ? 0 : lastContext;
    /** Adds a response's tokens (or a failed one's, `cut` by an error or a stop) to the attempt's usage. */
    const charge = (tokens: TokenCounts, cut: boolean): void => {
      const turnUsage: Usage = { ...tokens, cost_usd: costOf(tokens, spec.price) };
      usage = addUsage(usage, turnUsage);
      const what = cut
        ? `turn ${turn + 1}, a response cut off by ${r.signal.aborted ? 'the stop' : 'an error'} (billed as far as it went)`
        : `turn ${turn + 1}`;
      r.emit({
        type: 'usage',
        text: `${what}: ${tokens.input_tokens} in, ${tokens.cache_read_tokens} cache read, ${tokens.cache_write_tokens} cache write, ${tokens.output_tokens} out, $${turnUsage.cost_usd.toFixed(4)}`,
        turn: turn + 1,
        usage: turnUsage,
        total: usage,
      });
      // status.json's turn counts responses received: this one did not arrive.
      if (cut) r.progress({ turn, activity: r.signal.aborted ? 'stopping' : 'model request failed; retrying', usage });
    };
    let message: Anthropic.Messages.Message;
    let maxOut: number;
    try {
      ({ message, maxTokens: maxOut } = await askSized({
        client: r.client,
        params: { model: spec.model, system, tools: toolParams, messages: withRollingBreakpoint(messages) },
        signal: r.signal,
        retries: settings.api_retries,
        size: () =>
          responseCap({
            maxOutput: settings.max_output_tokens,
            caps: spec,
            spent: usage,
            price: spec.price,
            promptTokens,
            cachedTokens,
          }),
        onPartial: (partial) => charge(partial, true),
        onRetry: (n) =>
          r.emit({
            type: 'error',
            text: `model request failed (${n.error}); retry ${n.attempt} of ${settings.api_retries} in ${n.delayMs} ms`,
          }),
      }));
    } catch (e) {
      if (r.signal.aborted) return end('stopped', 'stopped');
      if (e instanceof CapReached) {
        return e.cap === 'cost'
          ? end(
              capReason('cost'),
              `stopped before turn ${turn + 1}: $${usage.cost_usd.toFixed(4)} of its $${spec.max_cost_usd!.toFixed(4)} cap spent, too little left for another response`,
            )
          : end(
              capReason('tokens'),
              `stopped before turn ${turn + 1}: ${totalTokens(usage)} of its ${spec.max_tokens!} token cap used, too few left for another turn`,
            );
      }
      if (e instanceof ApiFailure) {
        r.emit({ type: 'error', text: `model request failed for good: ${e.message}` });
        r.log.warn(
          { turn, status: e.status, permanent: e.permanent, error: e.message },
          'model request failed for good',
        );
        return end('api-error', `the model API failed: ${e.message}`);
      }
      throw e;
    }

    const tokens = tokensOf(message.usage);
    charge(tokens, false);
    turn++;
    // What the next request can read from the cache: this request's prompt (not its answer, which
    // comes back as new input).
    lastContext = tokens.input_tokens + tokens.cache_read_tokens + tokens.cache_write_tokens;

    // The answer goes back whole: thinking blocks must accompany tool use when a model thinks.
    const content = message.content;
    push({ role: 'assistant', content: content as Block[] });
    const text = content
      .flatMap((b) => (b.type === 'text' ? [b.text] : []))
      .join('\n')
      .trim();
    if (text) r.emit({ type: 'message', text: clipLine(text, 2000) });
    const calls = content.filter((b): b is Anthropic.Messages.ToolUseBlock => b.type === 'tool_use');
    r.progress({
      turn,
      activity: calls[0] ? activityOf(calls[0].name, calls[0].input) : clipLine(text || `turn ${turn}`),
      usage,
    });

    // A refusal ends the attempt, whatever calls it holds (the last may be unfinished).
    if (message.stop_reason === 'refusal')
      return end('api-error', `the model refused: ${text ? clipLine(text, 300) : '(no text)'}`);
    // Cut off: by the response's max_tokens, or by the context window (then compact first).
    const cutOff = cutOffBy(message);
    if (cutOff === 'context window') contextFull = true;
    if (calls.length === 0) {
      if (cutOff) {
        const why =
          cutOff === 'max_tokens' ? 'max_tokens' : 'the context window is full; older tool results were compacted';
        push({
          role: 'user',
          content: [
            {
              type: 'text',
              text: `Your answer was cut off (${why}). Continue, using the tools; call finish when done.`,
            },
          ],
        });
        continue;
      }
      // An answer without a tool call is the agent's final word.
      return end('finished', text ? clipLine(text, 500) : 'the agent ended without a summary');
    }

    const results: Anthropic.Messages.ToolResultBlockParam[] = [];
    let finished: string | undefined;
    let looped = false;
    // A cut-off answer may end inside a tool call, of which the SDK hands back the part of its
    // input it parsed (a write_file with half its content). That call is not run.
    const unfinished = unfinishedToolUse(message);
    for (const call of calls) {
      if (call === unfinished) {
        const limit = cutOff === 'max_tokens' ? `its max_tokens (${maxOut} tokens)` : "the model's context window";
        r.emit({ type: 'error', text: `the answer was cut off at ${limit} inside a ${call.name} call: not run` });
        results.push({
          type: 'tool_result',
          tool_use_id: call.id,
          is_error: true,
          content: `not run: your answer was cut off at ${limit} inside this call, so its input is incomplete. Make the call again in a shorter answer (write a large file in parts).`,
        });
        continue;
      }
      const key = callKey(call.name, call.input);
      repeats = key === lastKey ? repeats + 1 : 1;
      lastKey = key;
      r.emit({ type: 'tool_call', text: activityOf(call.name, call.input), name: call.name, input: brief(call.input) });
      if (repeats >= LOOP_REPEATS) {
        looped = true;
        results.push({
          type: 'tool_result',
          tool_use_id: call.id,
          content: 'not run: the same call was made 3 times in a row',
          is_error: true,
        });
        continue;
      }
      if (finished !== undefined || r.signal.aborted) {
        results.push({ type: 'tool_result', tool_use_id: call.id, content: 'not run', is_error: true });
        continue;
      }
      const out = await runTool(call.name, call.input, r.tools);
      r.emit({
        type: 'tool_result',
        text: `${call.name}${out.is_error ? ' (error)' : ''}: ${clipLine(out.output)}`,
        name: call.name,
        output: short(out.output, 2000),
        is_error: out.is_error,
      });
      results.push({ type: 'tool_result', tool_use_id: call.id, content: out.output, is_error: out.is_error });
      if (out.finish !== undefined) finished = out.finish;
      r.progress({ turn, activity: activityOf(call.name, call.input), usage });
    }
    push({ role: 'user', content: results });
    if (looped)
      return end(
        'loop-detected',
        `the agent repeated the same call ${LOOP_REPEATS} times in a row: ${activityOf(calls.at(-1)!.name, calls.at(-1)!.input)}`,
      );
    if (finished !== undefined) return end('finished', clipLine(finished, 500));
    if (r.signal.aborted) return end('stopped', 'stopped');
    if (spec.max_cost_usd !== null && usage.cost_usd >= spec.max_cost_usd)
      return end(
        capReason('cost'),
        `reached its cost cap: $${usage.cost_usd.toFixed(4)} of $${spec.max_cost_usd.toFixed(4)}`,
      );
    if (spec.max_tokens !== null && totalTokens(usage) >= spec.max_tokens)
      return end(capReason('tokens'), `reached its token cap: ${totalTokens(usage)} of ${spec.max_tokens}`);
  }
  return end('max-turns', `reached max_turns (${spec.max_turns}) without finishing`);
}

/**
 * Replaces the content of older tool results (all but the newest KEEP_RECENT_RESULTS) with a
 * one-line summary. Returns how many were compacted. The agent can rerun a tool to see it again.
 */
export function compact(messages: Param[]): number {
  const results: Anthropic.Messages.ToolResultBlockParam[] = [];
  for (const m of messages) {
    if (m.role !== 'user' || typeof m.content === 'string') continue;
    for (const b of m.content) if (b.type === 'tool_result') results.push(b);
  }
  let n = 0;
  for (const b of results.slice(0, Math.max(0, results.length - KEEP_RECENT_RESULTS))) {
    const text = typeof b.content === 'string' ? b.content : JSON.stringify(b.content ?? '');
    if (text.startsWith('[compacted')) continue;
    b.content = `[compacted to save context: ${text.length} characters, starting "${clipLine(text, 120)}"; run the tool again if you need it]`;
    n++;
  }
  return n;
}
