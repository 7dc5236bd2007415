// Claude Code's stream-json (`claude -p --output-format stream-json --verbose`, 2.1.330) as fileswarm
// events and state. Shapes measured against ../shared/reference/captures/claude-code-*.jsonl and
// test/fixtures/captures/claude-code-*.jsonl; the authoritative types are in
// `@anthropic-ai/claude-agent-sdk`'s sdk.d.ts.
//
// - `system` lines: `init` carries `session_id` and `model`; other subtypes (`status`,
//   `ui_invalidate`, ...) are ignored.
// - `assistant` lines: ONE content block each; the blocks of one API response come as several lines
//   with the same `message.id`, each with that response's `usage` as streamed so far (input and cache
//   counts final, output_tokens not). A turn (model request) is counted once per message id, its
//   usage once, updated as later lines of the same id arrive.
// - `user` lines: tool results (`tool_result` blocks, `is_error`), matched to their call by id.
// - `result`: the end. `subtype` success | error_max_turns | error_max_budget_usd |
//   error_during_execution; `is_error`; `result` (the final text) or `errors[]`; `api_error_status`;
//   `total_cost_usd` (Claude Code's own price table, also for models it does not know) and
//   `modelUsage{<model>:{inputTokens, outputTokens, cacheReadInputTokens, cacheCreationInputTokens,
//   costUSD}}`, which give the attempt's final usage.
import type { ModelPrice } from '../../../llm/prices.js';
import { costOf } from '../../../llm/prices.js';
import type { Usage } from '../../../protocol/schemas.js';
import { ZERO_USAGE } from '../../../protocol/usage.js';
import {
  activityOf,
  briefInput,
  clipLine,
  short,
  type CliStream,
  type CliStreamSink,
  type CliStreamState,
} from '../cli/stream.js';

/** The token counts of one API response as Claude Code's lines carry them. */
interface ResponseUsage {
  input_tokens?: number;
  output_tokens?: number;
  cache_read_input_tokens?: number;
  cache_creation_input_tokens?: number;
}

/** A loosely typed JSON object. */
type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** Parses one attempt's Claude Code stream (see the file's header). */
export class ClaudeCodeStream implements CliStream {
  readonly state: CliStreamState = {
    turns: 0,
    usage: { ...ZERO_USAGE },
    sessionId: null,
    lastText: null,
    end: null,
    errors: [],
  };

  readonly #price: ModelPrice;
  readonly #sink: CliStreamSink;
  /** Usage of each API response so far, by message id (in order). */
  readonly #responses = new Map<string, ResponseUsage>();
  /** The response whose raw stream events are arriving (`message_start` seen, `message_delta` not yet). */
  #current: string | null = null;
  /** Tool calls by id, for naming their results. */
  readonly #calls = new Map<string, { name: string; input: unknown }>();

  constructor(opts: { model: string; price: ModelPrice; sink: CliStreamSink }) {
    this.#price = opts.price;
    this.#sink = opts.sink;
  }

  push(line: string): void {
    if (!line.trim()) return;
    let ev: unknown;
    try {
      ev = JSON.parse(line);
    } catch {
      this.#sink.emit({ type: 'log', text: clipLine(line, 300) });
      return;
    }
    if (!isObject(ev)) return;
    try {
      this.#read(ev);
    } catch (e) {
      // A shape this parser did not expect: kept in stdout.log, noted here, never fatal.
      this.#sink.emit({ type: 'log', text: `unreadable ${String(ev.type)} line: ${(e as Error).message}` });
    }
  }

  #read(ev: Json): void {
    switch (ev.type) {
      case 'system':
        if (ev.subtype === 'init') this.state.sessionId = str(ev.session_id) ?? this.state.sessionId;
        else if (ev.subtype === 'api_retry') this.#retry(ev);
        return;
      case 'stream_event':
        return this.#streamEvent(ev.event);
      case 'assistant':
        return this.#assistant(ev);
      case 'user':
        return this.#user(ev);
      case 'result':
        return this.#result(ev);
      default:
        return; // rate-limit notices, types of later versions
    }
  }

  #assistant(ev: Json): void {
    const msg = isObject(ev.message) ? ev.message : {};
    this.state.sessionId ??= str(ev.session_id);
    const id = str(msg.id) ?? `line-${this.#responses.size}`;
    const fresh = !this.#responses.has(id);
    // Without raw stream events, the `assistant` lines' usage is all there is (output as streamed so
    // far); with them, the response's usage is already known and exact.
    if (fresh) {
      this.#responses.set(id, isObject(msg.usage) ? (msg.usage as ResponseUsage) : {});
      this.state.turns++;
      this.#recount();
    }
    const turn = this.state.turns;
    for (const block of Array.isArray(msg.content) ? msg.content : []) {
      if (!isObject(block)) continue;
      if (block.type === 'text' && typeof block.text === 'string' && block.text.trim()) {
        this.state.lastText = block.text;
        this.#sink.emit({ type: 'message', text: clipLine(block.text, 2000) });
        this.#sink.progress({ turn, activity: clipLine(block.text), usage: this.state.usage });
      } else if (block.type === 'tool_use') {
        const name = str(block.name) ?? 'tool';
        const callId = str(block.id);
        if (callId) this.#calls.set(callId, { name, input: block.input });
        this.#sink.emit({
          type: 'tool_call',
          text: activityOf(name, block.input),
          name,
          input: briefInput(block.input),
        });
        this.#sink.progress({ turn, activity: activityOf(name, block.input), usage: this.state.usage });
      }
    }
    if (fresh)
      this.#sink.emit({
        type: 'usage',
        text: `turn ${turn}`,
        turn,
        usage: this.#usageOf(msg.usage),
        total: this.state.usage,
      });
  }

  /**
   * The API's raw stream events (`--include-partial-messages`): `message_start` opens a response (a
   * turn) with its prompt's tokens; `message_delta` gives its final output tokens.
   */
  #streamEvent(e: unknown): void {
    if (!isObject(e)) return;
    if (e.type === 'message_start' && isObject(e.message)) {
      const id = str(e.message.id);
      if (!id) return;
      this.#current = id;
      if (!this.#responses.has(id)) this.state.turns++;
      this.#responses.set(id, { ...(isObject(e.message.usage) ? (e.message.usage as ResponseUsage) : {}) });
      this.#recount();
    } else if (e.type === 'message_delta' && this.#current && isObject(e.usage)) {
      const r = this.#responses.get(this.#current) ?? {};
      // The delta's counts are cumulative for the response; a field it leaves out keeps its value.
      this.#responses.set(this.#current, { ...r, ...(e.usage as ResponseUsage) });
      this.#recount();
      this.#sink.emit({
        type: 'usage',
        text: `turn ${this.state.turns}`,
        turn: this.state.turns,
        usage: this.#usageOf(this.#responses.get(this.#current)),
        total: this.state.usage,
      });
      this.#current = null;
    }
  }

  /**
   * A failed model request Claude Code will retry (`system/api_retry`: attempt, max_retries,
   * retry_delay_ms, error_status, error). An authentication failure (401) or a forbidden key (403)
   * will not get better: it is fatal at once.
   */
  #retry(ev: Json): void {
    const status = typeof ev.error_status === 'number' ? ev.error_status : null;
    const what = `${str(ev.error) ?? 'error'}${status !== null ? ` (${status})` : ''}`;
    const text = `model request failed: ${what}; retry ${num(ev.attempt)} of ${num(ev.max_retries)} in ${num(ev.retry_delay_ms)} ms`;
    this.state.errors.push(text);
    this.#sink.emit({ type: 'error', text });
    if (status === 401 || status === 403) this.state.fatal = authHint(status, `the API refused the key: ${what}`);
  }

  #user(ev: Json): void {
    const msg = isObject(ev.message) ? ev.message : {};
    for (const block of Array.isArray(msg.content) ? msg.content : []) {
      if (!isObject(block) || block.type !== 'tool_result') continue;
      const call = this.#calls.get(str(block.tool_use_id) ?? '');
      const name = call?.name ?? 'tool';
      const output = resultText(block.content);
      const isError = block.is_error === true;
      this.#sink.emit({
        type: 'tool_result',
        text: `${name}${isError ? ' (error)' : ''}: ${clipLine(output)}`,
        name,
        output: short(output, 2000),
        is_error: isError,
      });
      this.#sink.progress({
        turn: this.state.turns,
        activity: call ? activityOf(name, call.input) : name,
        usage: this.state.usage,
      });
    }
  }

  #result(ev: Json): void {
    this.state.sessionId = str(ev.session_id) ?? this.state.sessionId;
    // The final figures: Claude Code's own per-model sums and USD.
    if (isObject(ev.modelUsage)) {
      const u = { ...ZERO_USAGE };
      for (const m of Object.values(ev.modelUsage)) {
        if (!isObject(m)) continue;
        u.input_tokens += num(m.inputTokens);
        u.output_tokens += num(m.outputTokens);
        u.cache_read_tokens += num(m.cacheReadInputTokens);
        u.cache_write_tokens += num(m.cacheCreationInputTokens);
      }
      this.state.usage = { ...u, cost_usd: num(ev.total_cost_usd) };
    } else if (typeof ev.total_cost_usd === 'number') {
      this.state.usage = { ...this.state.usage, cost_usd: ev.total_cost_usd };
    }
    this.#sink.emit({ type: 'usage', text: 'final usage (Claude Code)', total: this.state.usage });
    const errors = Array.isArray(ev.errors) ? ev.errors.filter((e): e is string => typeof e === 'string') : [];
    const text = str(ev.result);
    switch (ev.subtype) {
      case 'success':
        if (ev.is_error !== true) {
          this.state.end = { kind: 'success', summary: text ?? this.state.lastText ?? '' };
          return;
        }
        break;
      case 'error_max_turns':
        this.state.end = { kind: 'max-turns', message: errors[0] ?? 'reached its maximum number of turns' };
        return;
      case 'error_max_budget_usd':
        this.state.end = { kind: 'budget', message: errors[0] ?? 'reached its maximum budget' };
        return;
    }
    const status = typeof ev.api_error_status === 'number' ? ev.api_error_status : null;
    const message = [errors.join('; '), text].find((s) => s && s.trim()) ?? this.state.errors.at(-1) ?? 'failed';
    const full = status !== null && !message.includes(String(status)) ? `API error ${status}: ${message}` : message;
    this.state.errors.push(full);
    this.#sink.emit({ type: 'error', text: clipLine(full, 500) });
    this.state.end = { kind: 'error', message: authHint(status, full) };
  }

  /** Recomputes the usage so far from every response's latest counts. */
  #recount(): void {
    let u: Usage = { ...ZERO_USAGE };
    for (const r of this.#responses.values()) {
      const x = this.#usageOf(r);
      u = {
        input_tokens: u.input_tokens + x.input_tokens,
        output_tokens: u.output_tokens + x.output_tokens,
        cache_read_tokens: u.cache_read_tokens + x.cache_read_tokens,
        cache_write_tokens: u.cache_write_tokens + x.cache_write_tokens,
        cost_usd: u.cost_usd + x.cost_usd,
      };
    }
    this.state.usage = { ...u, cost_usd: Math.round(u.cost_usd * 1e9) / 1e9 };
  }

  /** One response's usage, priced with the role's price (until Claude Code's own total arrives). */
  #usageOf(raw: unknown): Usage {
    const r = (isObject(raw) ? raw : {}) as ResponseUsage;
    const tokens = {
      input_tokens: num(r.input_tokens),
      output_tokens: num(r.output_tokens),
      cache_read_tokens: num(r.cache_read_input_tokens),
      cache_write_tokens: num(r.cache_creation_input_tokens),
    };
    return { ...tokens, cost_usd: costOf(tokens, this.#price) };
  }
}

/** A tool result's content as text: a string, or the text blocks of a list. */
function resultText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content))
    return content
      .map((b) => (isObject(b) && typeof b.text === 'string' ? b.text : ''))
      .filter(Boolean)
      .join('\n');
  return '';
}

/** The message, with how to fix an authentication failure. */
function authHint(status: number | null, message: string): string {
  if (status === 401 || /authenticat|invalid x-api-key|api key/i.test(message))
    return `authentication failed (${status ?? 401}): ${message} — check the key in the role's api_key_env (default ANTHROPIC_API_KEY)`;
  return message;
}
