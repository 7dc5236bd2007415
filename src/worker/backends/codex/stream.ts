// Reads what Codex prints with `codex exec --json` (0.169.0), one JSON event per line, into
// fileswarm's normalized events, progress and usage; and, optionally, the usage records of Codex's
// session file, which are the only place Codex tells the usage of each model request while it works.
//
// stdout events (measured against a fake Responses API on 2026-12-04):
//   {"type":"thread.started","thread_id":"01a2…"}        first line: the session (thread) id
//   {"type":"turn.started"}                                 `exec` runs exactly one turn
//   {"type":"item.started"|"item.updated"|"item.completed","item":{"id":"item_N","type":…}}
//     agent_message{text}                 completed only
//     reasoning{text}                     completed only (the model's reasoning summary)
//     command_execution{command,aggregated_output,exit_code,status}
//                                         started (in_progress) → completed (completed|failed|declined);
//                                         `command` is the shell wrapper: `/bin/bash -lc '<cmd>'`;
//                                         a command still running when the turn ends is never completed
//     file_change{changes:[{path,kind:add|delete|update}],status}
//                                         started → completed|failed; absolute paths; a patch the sandbox
//                                         refuses produces no item at all (only a log line on stderr)
//     mcp_tool_call{server,tool,arguments,result,error,status}, web_search{query},
//     todo_list{items:[{text,completed}]}, error{message} (a warning: unknown model metadata,
//     falling back from WebSockets to HTTPS, ...)
//   {"type":"error","message":"Reconnecting... 1/5 (…)"}   a retry, or the final error just before turn.failed
//   {"type":"turn.completed","usage":{input_tokens,cached_input_tokens,cache_write_input_tokens,
//     output_tokens,reasoning_output_tokens}}              last line on success (exit 0)
//   {"type":"turn.failed","error":{"message":…}}          last line on an error Codex gave up on (exit 1)
//
// Usage: `turn.completed` carries the usage of the whole turn, summed over all its model requests
// (measured: 3 requests of 100, 200 and 300 input tokens → input_tokens 600), and nothing on stdout
// marks a model request or its usage before that. Tokens are OpenAI's: input_tokens includes the
// cached (and cache-write) tokens, output_tokens includes reasoning tokens. Codex reports no USD.
//
// During the attempt, Codex appends to its session file `$CODEX_HOME/sessions/YYYY/MM/DD/rollout-
// <time>-<thread id>.jsonl`, right after each model response, a line
//   {"type":"token_usage_record","payload":{"response_id":…,"usage":{…same fields…},
//    "turn_token_usage":{…},"thread_token_usage":{…}}}
// (measured: present while the next request was still pending). `pushRollout` reads those lines:
// with them the parser knows each request's usage and the exact number of requests mid-attempt.
import { costOf, type ModelPrice } from '../../../llm/prices.js';
import type { Usage } from '../../../protocol/schemas.js';
import { isPlainObject } from '../../../util/plain-object.js';
import { addUsage, ZERO_USAGE } from '../../../protocol/usage.js';
import {
  activityOf,
  briefInput,
  clipLine,
  short,
  initialStreamState,
  readStreamLine,
  type CliStream,
  type CliStreamSink,
  type CliStreamState,
} from '../cli/stream.js';

/** Token counts as Codex 0.169.0 reports them (`turn.completed` usage, session-file usage records). */
export interface CodexTokenUsage {
  /** Every prompt token, cached and cache-write ones included. */
  input_tokens: number;
  cached_input_tokens: number;
  /** From the API's `input_tokens_details.cache_write_tokens`; 0 in every run measured (the fake sent none). */
  cache_write_input_tokens?: number;
  /** Every generated token, reasoning included. */
  output_tokens: number;
  reasoning_output_tokens?: number;
}

/** The tool name fileswarm gives Codex's commands and its patches in events. */
const BASH = 'Bash';
const EDIT = 'Edit';

/**
 * Codex's token counts as fileswarm's Usage, priced with `price` (USD per million tokens): uncached
 * input = input − cached − cache-write (never below 0), cache_read = cached, cache_write = cache-write,
 * output = output (reasoning included).
 */
export function codexUsage(u: CodexTokenUsage, price: ModelPrice): Usage {
  const cacheRead = num(u.cached_input_tokens);
  const cacheWrite = num(u.cache_write_input_tokens);
  const tokens = {
    input_tokens: Math.max(0, num(u.input_tokens) - cacheRead - cacheWrite),
    output_tokens: num(u.output_tokens),
    cache_read_tokens: cacheRead,
    cache_write_tokens: cacheWrite,
  };
  return { ...tokens, cost_usd: costOf(tokens, price) };
}

/**
 * The command Codex ran, without its shell wrapper: `/bin/bash -lc 'cat a.txt'` → `cat a.txt`
 * (a word list as Rust's `shlex::try_join` quotes it; any `…sh -c`/`-lc` wrapper). Anything else is
 * returned as it is.
 */
export function unwrapShell(command: string): string {
  const words = shellWords(command);
  if (words && words.length === 3 && /(^|\/)[a-z]*sh$/.test(words[0]!) && /^-l?c$/.test(words[1]!)) return words[2]!;
  return command;
}

/**
 * A parser of one `codex exec --json` run. Turns (model requests) and usage:
 * - from stdout alone, usage is known only at `turn.completed` (then one usage event for the whole
 *   turn), and turns are an estimate: one request per run of model output (messages, reasoning, tool
 *   calls) between tool results. It is exact when each response makes at most one tool call, and
 *   counts one request too many for each extra call of a response whose calls Codex ran one after the
 *   other (their order on stdout is the same as for calls made in separate responses).
 * - with the session file's lines given to {@link CodexStream.pushRollout} as they are written, each
 *   request's usage comes as soon as Codex has it, and turns are exact; `turn.completed` then only
 *   corrects the total if a record was missed.
 */
export class CodexStream implements CliStream {
  readonly state: CliStreamState = initialStreamState();

  readonly #price: ModelPrice;
  readonly #sink: CliStreamSink;
  /** Usage of the turns completed on stdout (the sum of their `turn.completed`). */
  #completedTurns: Usage = { ...ZERO_USAGE };
  /** Usage of the session-file records of the current turn. */
  #recorded: Usage = { ...ZERO_USAGE };
  /** Response ids of the session-file records seen. */
  readonly #responses = new Set<string>();
  /** Estimated requests from stdout. */
  #estimated = 0;
  /** Model output seen since the last tool result (the estimate's current request). */
  #inResponse = false;
  /** Tool calls started and not yet completed, by item id: what their tool_call event said. */
  readonly #running = new Map<string, { name: string; input: unknown }>();
  #activity = 'starting';

  constructor(opts: { model: string; price: ModelPrice; sink: CliStreamSink }) {
    this.#price = opts.price;
    this.#sink = opts.sink;
  }

  push(line: string): void {
    readStreamLine(line, this.#sink, 'codex event', (ev) => this.#event(ev));
  }

  /**
   * Reads one line of Codex's session file (`$CODEX_HOME/sessions/**\/rollout-*.jsonl`), in the
   * order written. Only `token_usage_record` lines count: each is one model response, with its usage.
   * Other lines, and lines that are not JSON, are ignored; never throws.
   */
  pushRollout(line: string): void {
    const ev = parseObject(line);
    if (!ev || ev.type !== 'token_usage_record' || !isPlainObject(ev.payload)) return;
    const p = ev.payload;
    const id = typeof p.response_id === 'string' ? p.response_id : `#${this.#responses.size}`;
    if (this.#responses.has(id) || !isPlainObject(p.usage)) return;
    this.#responses.add(id);
    this.state.turns = this.#responses.size;
    // After the turn ended, its total from stdout stands.
    if (this.state.end) return;
    const u = codexUsage(p.usage as unknown as CodexTokenUsage, this.#price);
    this.#recorded = addUsage(this.#recorded, u);
    this.state.usage = addUsage(this.#completedTurns, this.#recorded);
    this.#usageEvent(`turn ${this.state.turns}`, this.state.turns, u);
    this.#progress();
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  #event(ev: Record<string, any>): void {
    switch (ev.type) {
      case 'thread.started':
        if (typeof ev.thread_id === 'string') {
          this.state.sessionId = ev.thread_id;
          this.#sink.emit({ type: 'log', text: `codex thread ${ev.thread_id}` });
        }
        return;
      case 'turn.started':
        this.#activity = 'waiting for the model';
        this.#progress();
        return;
      case 'item.started':
        if (isPlainObject(ev.item)) this.#itemStarted(ev.item);
        return;
      case 'item.completed':
        if (isPlainObject(ev.item)) this.#itemCompleted(ev.item);
        return;
      case 'turn.completed':
        this.#turnCompleted(isPlainObject(ev.usage) ? (ev.usage as unknown as CodexTokenUsage) : null);
        return;
      case 'turn.failed': {
        const message = errorText(ev.error) ?? 'the turn failed';
        if (this.state.errors.at(-1) !== message) this.#error(message);
        this.state.end = { kind: 'error', message };
        this.#activity = 'failed';
        this.#progress();
        return;
      }
      case 'error': {
        const message = typeof ev.message === 'string' ? ev.message : 'unknown error';
        this.#error(message);
        return;
      }
      default:
        // item.updated (partial command output, todo list steps), and event types of later versions.
        return;
    }
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  #itemStarted(item: Record<string, any>): void {
    const call = toolCallOf(item);
    if (!call || typeof item.id !== 'string' || this.#running.has(item.id)) return;
    this.#modelOutput();
    this.#running.set(item.id, call);
    this.#toolCall(call);
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  #itemCompleted(item: Record<string, any>): void {
    switch (item.type) {
      case 'agent_message': {
        const text = typeof item.text === 'string' ? item.text : '';
        this.#modelOutput();
        if (!text.trim()) return;
        this.state.lastText = text;
        this.#sink.emit({ type: 'message', text: clipLine(text, 2000) });
        this.#activity = clipLine(text);
        this.#progress();
        return;
      }
      case 'reasoning': {
        this.#modelOutput();
        const text = typeof item.text === 'string' ? item.text : '';
        if (text.trim()) this.#sink.emit({ type: 'log', text: `reasoning: ${clipLine(text, 500)}` });
        return;
      }
      case 'error':
        this.#error(typeof item.message === 'string' ? item.message : 'unknown error');
        return;
      case 'todo_list': {
        const items = Array.isArray(item.items) ? (item.items as unknown[]).filter(isPlainObject) : [];
        const done = items.filter((i) => i.completed === true).length;
        const steps = items.map((i) => `${i.completed === true ? '[x]' : '[ ]'} ${String(i.text ?? '')}`).join('; ');
        this.#sink.emit({ type: 'log', text: clipLine(`plan ${done}/${items.length}: ${steps}`, 500) });
        return;
      }
      default:
        break;
    }
    const result = toolResultOf(item);
    if (!result || typeof item.id !== 'string') return;
    let call = this.#running.get(item.id);
    if (!call) {
      // Completed without a start (a file change of an older version, a web search): the call first.
      const unseen = toolCallOf(item);
      if (!unseen) return;
      call = unseen;
      this.#modelOutput();
      this.#toolCall(call);
    }
    this.#running.delete(item.id);
    this.#sink.emit({
      type: 'tool_result',
      text: `${result.name}${result.is_error ? ' (error)' : ''}: ${clipLine(result.output)}`,
      name: result.name,
      output: short(result.output, 2000),
      is_error: result.is_error,
    });
    // The next model output belongs to the next request.
    this.#inResponse = false;
    this.#activity = activityOf(call.name, call.input);
    this.#progress();
  }

  #turnCompleted(u: CodexTokenUsage | null): void {
    const turnUsage = u ? codexUsage(u, this.#price) : { ...ZERO_USAGE };
    if (this.#responses.size === 0) {
      // stdout only: the whole turn's usage, now.
      this.state.turns = Math.max(this.#estimated, 1);
      this.state.usage = addUsage(this.#completedTurns, turnUsage);
      const what = this.state.turns === 1 ? 'turn 1' : `turns 1-${this.state.turns} (Codex reports usage per run)`;
      this.#usageEvent(what, this.state.turns, turnUsage);
    } else {
      // The session file told each request; the turn's total is authoritative for what it missed.
      const missed = subtractUsage(turnUsage, this.#recorded);
      this.state.usage = addUsage(this.#completedTurns, turnUsage);
      if (missed.input_tokens + missed.output_tokens + missed.cache_read_tokens + missed.cache_write_tokens > 0) {
        const priced = { ...missed, cost_usd: costOf(missed, this.#price) };
        this.#usageEvent(`turn ${this.state.turns}, usage not in the session file`, this.state.turns, priced);
      }
    }
    this.#completedTurns = this.state.usage;
    this.#recorded = { ...ZERO_USAGE };
    this.state.end = { kind: 'success', summary: this.state.lastText ?? '' };
    this.#activity = 'finished';
    this.#progress();
  }

  /** Model output seen: a new request if the last thing seen was a tool result (or nothing). */
  #modelOutput(): void {
    if (this.#inResponse) return;
    this.#inResponse = true;
    this.#estimated += 1;
  }

  #toolCall(call: { name: string; input: unknown }): void {
    this.#activity = activityOf(call.name, call.input);
    this.#sink.emit({ type: 'tool_call', text: this.#activity, name: call.name, input: briefInput(call.input) });
    this.#progress();
  }

  #error(message: string): void {
    this.state.errors.push(message);
    this.#sink.emit({ type: 'error', text: clipLine(message, 500) });
  }

  #usageEvent(what: string, turn: number, u: Usage): void {
    this.#sink.emit({
      type: 'usage',
      text: `${what}: ${u.input_tokens} in, ${u.cache_read_tokens} cache read, ${u.cache_write_tokens} cache write, ${u.output_tokens} out, $${u.cost_usd.toFixed(4)}`,
      turn,
      usage: u,
      total: this.state.usage,
    });
  }

  #progress(): void {
    const turn = this.#responses.size > 0 ? this.state.turns : Math.max(this.state.turns, this.#estimated);
    this.#sink.progress({ turn, activity: this.#activity, usage: this.state.usage });
  }
}

// ---------------------------------------------------------------------------------------------------------------

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function parseObject(line: string): Record<string, any> | null {
  try {
    const v: unknown = JSON.parse(line);
    return isPlainObject(v) ? v : null;
  } catch {
    return null;
  }
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0);

/** a − b per token field, never below 0 (USD left at 0). */
function subtractUsage(a: Usage, b: Usage): Usage {
  return {
    input_tokens: Math.max(0, a.input_tokens - b.input_tokens),
    output_tokens: Math.max(0, a.output_tokens - b.output_tokens),
    cache_read_tokens: Math.max(0, a.cache_read_tokens - b.cache_read_tokens),
    cache_write_tokens: Math.max(0, a.cache_write_tokens - b.cache_write_tokens),
    cost_usd: 0,
  };
}

function errorText(e: unknown): string | null {
  if (typeof e === 'string') return e;
  if (isPlainObject(e) && typeof e.message === 'string') return e.message;
  return null;
}

/** The tool call a started (or completed) item stands for, or null if it is not a tool call. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function toolCallOf(item: Record<string, any>): { name: string; input: unknown } | null {
  switch (item.type) {
    case 'command_execution':
      return { name: BASH, input: { command: unwrapShell(String(item.command ?? '')) } };
    case 'file_change': {
      const changes = Array.isArray(item.changes) ? (item.changes as unknown[]).filter(isPlainObject) : [];
      const paths = changes.map((c) => String(c.path ?? ''));
      return {
        name: EDIT,
        input: { path: paths.length > 1 ? `${paths[0]} (+${paths.length - 1} more)` : (paths[0] ?? ''), changes },
      };
    }
    case 'mcp_tool_call':
      return { name: `${String(item.server ?? 'mcp')}.${String(item.tool ?? '?')}`, input: item.arguments ?? {} };
    case 'web_search':
      return { name: 'WebSearch', input: { query: String(item.query ?? '') } };
    default:
      return null;
  }
}

/** The result of a completed tool item: its output as the model got it, and whether it failed. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function toolResultOf(item: Record<string, any>): { name: string; output: string; is_error: boolean } | null {
  switch (item.type) {
    case 'command_execution': {
      const out = typeof item.aggregated_output === 'string' ? item.aggregated_output : '';
      const code = typeof item.exit_code === 'number' ? item.exit_code : null;
      const tail = item.status === 'declined' ? '[declined]' : code === null ? '[no exit code]' : `[exit code ${code}]`;
      return {
        name: BASH,
        output: `${out}${out.endsWith('\n') || !out ? '' : '\n'}${tail}`,
        is_error: item.status !== 'completed' || code !== 0,
      };
    }
    case 'file_change': {
      const changes = Array.isArray(item.changes) ? (item.changes as unknown[]).filter(isPlainObject) : [];
      const failed = item.status !== 'completed';
      const list = changes.map((c) => `${String(c.kind ?? 'update')} ${String(c.path ?? '')}`).join('\n');
      return { name: EDIT, output: failed ? `patch failed:\n${list}` : list, is_error: failed };
    }
    case 'mcp_tool_call': {
      const name = `${String(item.server ?? 'mcp')}.${String(item.tool ?? '?')}`;
      if (item.status === 'failed' || item.error)
        return { name, output: errorText(item.error) ?? 'failed', is_error: true };
      const content = isPlainObject(item.result) && Array.isArray(item.result.content) ? item.result.content : [];
      const text = (content as unknown[])
        .map((c) => (isPlainObject(c) && typeof c.text === 'string' ? c.text : JSON.stringify(c)))
        .join('\n');
      return { name, output: text, is_error: false };
    }
    case 'web_search':
      return { name: 'WebSearch', output: String(item.query ?? ''), is_error: false };
    default:
      return null;
  }
}

/**
 * The words of a POSIX shell command line without expansions (single quotes, double quotes with
 * their four escapes, backslashes), or null if it does not parse (an unclosed quote).
 */
function shellWords(s: string): string[] | null {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) return null;
      word += s.slice(i + 1, end);
      inWord = true;
      i = end;
    } else if (c === '"') {
      inWord = true;
      let j = i + 1;
      for (; j < s.length && s[j] !== '"'; j++) {
        if (s[j] === '\\' && j + 1 < s.length && '$`"\\\n'.includes(s[j + 1]!)) {
          if (s[j + 1] !== '\n') word += s[j + 1];
          j++;
        } else word += s[j];
      }
      if (j >= s.length) return null;
      i = j;
    } else if (c === '\\') {
      if (i + 1 < s.length && s[i + 1] !== '\n') word += s[i + 1];
      inWord = true;
      i++;
    } else if (c === ' ' || c === '\t' || c === '\n') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}
