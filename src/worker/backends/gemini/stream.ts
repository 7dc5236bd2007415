// The parser of Gemini CLI's `-o stream-json` output (`@google/gemini-cli` 0.61.0), line by line, into
// fileswarm's normalized events, and of its chat recording (the session file it appends to as it goes),
// which is where it reveals usage per model request during the attempt.
//
// stream-json, as 0.61.0 writes it (bundle `nonInteractiveCli.ts`, measured against
// test/fixtures/fake-gemini.ts):
// - `{type:'init', session_id, model}`: first line; `model` is what `-m` said (`auto` stays `auto`).
// - `{type:'message', role:'user', content}`: the prompt, once.
// - `{type:'message', role:'assistant', content, delta:true}`: one line per streamed text chunk.
// - `{type:'tool_use', tool_name, tool_id, parameters}`: as soon as the model's stream holds the call.
// - `{type:'tool_result', tool_id, status:'success'|'error', output?, error?:{type,message}}`: after the
//   model's stream ended and the tool ran; no tool name (matched by tool_id). `output` is the tool's
//   display text: '' for read_file, absent for replace and write_file. A shell command that exits
//   non-zero is `success` with output `Command exited with code: N`.
// - `{type:'error', severity:'warning'|'error', message}`: loop detected, turn limit reached in its
//   client, a hook blocked the agent, or the model's answer was empty or cut (then a result follows).
// - `{type:'result', status:'success'|'error', error?:{type,message}, stats}` last; `stats` =
//   `{total_tokens, input_tokens, output_tokens, cached, input, duration_ms, tool_calls, models:{<model>:
//   {total_tokens, input_tokens, output_tokens, cached, input}}}`, summed over every request of the run,
//   side requests (model router, compression) included, keyed by the model each answer named.
//   input_tokens is the prompt with its cached part, `input` the uncached part, output_tokens the answer
//   without thinking; total_tokens also counts thinking.
// USAGE DURING THE ATTEMPT: stream-json reports none before `result`. The chat recording does: after
// each model turn's stream ends (before its tools run, so before the next request) Gemini CLI appends a
// line `{id, type:'gemini', tokens:{input, output, cached, thoughts, tool, total}, model, ...}` to
// `$HOME/.gemini/tmp/<project>/chats/session-*.jsonl` (the same message may be appended again later with
// more fields: same id). Feed those lines to {@link GeminiStream.pushChatRecord} to know usage per model
// turn while the CLI runs; the final `result` then sets the exact total, side requests included.
import type { Usage } from '../../../protocol/schemas.js';
import { isPlainObject } from '../../../util/plain-object.js';
import { addUsage, ZERO_USAGE } from '../../../protocol/usage.js';
import { costOf, type ModelPrice } from '../../../llm/prices.js';
import {
  activityOf,
  briefInput,
  clipLine,
  short,
  type CliEnd,
  initialStreamState,
  readStreamLine,
  type CliStream,
  type CliStreamSink,
  type CliStreamState,
} from '../cli/stream.js';

/** Token counts of one or more Gemini API requests, as its `usageMetadata` names them. */
export interface GeminiTokenCounts {
  /** promptTokenCount: the whole prompt, its cached part included. */
  prompt: number;
  /** cachedContentTokenCount: the part of the prompt read from the cache. */
  cached: number;
  /** candidatesTokenCount: the answer, without thinking. */
  candidates: number;
  /** thoughtsTokenCount (plus toolUsePromptTokenCount where it cannot be told apart): billed as output. */
  thoughts: number;
}

/**
 * fileswarm usage of Gemini token counts, priced at `price` (USD per million tokens): input = the
 * uncached prompt, cache_read = the cached prompt (Gemini charges no cache writes: 0), output = the
 * answer and its thinking (Google bills thinking tokens at the output price).
 */
export function geminiUsage(t: GeminiTokenCounts, price: ModelPrice): Usage {
  const tokens = {
    input_tokens: Math.max(0, t.prompt - t.cached),
    output_tokens: t.candidates + t.thoughts,
    cache_read_tokens: t.cached,
    cache_write_tokens: 0,
  };
  return { ...tokens, cost_usd: costOf(tokens, price) };
}

/**
 * The token counts of a stream-json `result.stats` (null if it has none): thinking = total_tokens −
 * input_tokens − output_tokens, since stats carry no thoughts field of their own.
 */
export function statsTokenCounts(stats: unknown): GeminiTokenCounts | null {
  if (!isPlainObject(stats)) return null;
  const prompt = num(stats.input_tokens);
  const candidates = num(stats.output_tokens);
  const cached = num(stats.cached);
  const total = num(stats.total_tokens);
  if (prompt === null || candidates === null) return null;
  return {
    prompt,
    cached: cached ?? 0,
    candidates,
    thoughts: total === null ? 0 : Math.max(0, total - prompt - candidates),
  };
}

/**
 * A readable message of a result's error: `[API Error: {"error":{"code":401,"message":..,"status":..}}]`
 * (how 0.61.0 wraps an API error) becomes `API error 401 UNAUTHENTICATED: <message>`; anything else is
 * kept as it is.
 */
export function describeGeminiError(message: string): string {
  const m = /^\[API Error: (.*)\]$/s.exec(message.trim());
  if (!m) return message;
  try {
    const parsed: unknown = JSON.parse(m[1]!);
    const e = isPlainObject(parsed) && isPlainObject(parsed.error) ? parsed.error : null;
    if (!e || typeof e.message !== 'string') return message;
    const code = [e.code, e.status].filter((x) => typeof x === 'number' || typeof x === 'string').join(' ');
    return `API error${code ? ` ${code}` : ''}: ${e.message}`;
  } catch {
    return message
      .trim()
      .replace(/^\[API Error: /, 'API error: ')
      .replace(/\]$/, '');
  }
}

/** A tool call seen in a tool_use line, for naming its tool_result. */
interface ToolCall {
  name: string;
  input: unknown;
}

/** The error type 0.61.0 gives its own turn limit (`model.maxSessionTurns`), exit code 53. */
const TURN_LIMIT_ERROR = 'FatalTurnLimitedError';
/** The error event its client emits when its own session turn count passes the limit. */
const TURN_LIMIT_MESSAGE = 'Maximum session turns exceeded';

/**
 * Gemini CLI 0.61.0's `-o stream-json` output as fileswarm events and state.
 * - Turns: model requests. stream-json shows no request boundaries: a turn is counted when the model's
 *   first text or tool call after the prompt or after a tool result appears. Exact for turns that answer
 *   with text or tool calls; requests it retried, empty answers, and side requests (model router with
 *   `-m auto`, chat compression) are not seen. Chat records ({@link pushChatRecord}) count each model turn
 *   that got an answer; `state.turns` is the larger of the two counts.
 * - Text: the chunks (`delta: true`) of a model turn are joined into one `message` event, emitted before
 *   the turn's first tool call or when the turn ends (a second one only if the model writes text after a
 *   tool call in the same turn).
 * - Usage: from chat records as they come (a `usage` event per model turn), then from `result.stats`
 *   (authoritative: a last `usage` event for what the records did not show, e.g. side requests, or for
 *   the whole attempt without records). Tokens priced with `opts.price` (Gemini CLI reports no USD).
 * - End: `result` success → success with the last text; `FatalTurnLimitedError` (or an error result after
 *   "Maximum session turns exceeded") → max-turns; any other error result → error with its message, or
 *   the last error event's (an empty answer ends with `result{status:'error'}` and no error of its own,
 *   exit code 0). Gemini CLI has no budget limit of its own: never `budget`.
 */
export class GeminiStream implements CliStream {
  readonly state: CliStreamState = initialStreamState();

  readonly #price: ModelPrice;
  readonly #sink: CliStreamSink;
  /** The model `init` named (or opts.model until then). */
  #model: string;
  /** Tool calls by tool_id. */
  readonly #calls = new Map<string, ToolCall>();
  /** A model turn has shown output and no tool result has come since. */
  #inTurn = false;
  /** Text of the current turn not yet emitted. */
  #text = '';
  /** The current turn made tool calls. */
  #turnCalls = 0;
  /** Turns seen in stream-json, and model turns seen in chat records. */
  #visibleTurns = 0;
  #recordedTurns = 0;
  /** Usage summed from chat records, and the ids already counted. */
  #recorded: Usage = { ...ZERO_USAGE };
  readonly #recordIds = new Set<string>();
  /** The last activity reported (status.json's line). */
  #activity: string | null = null;

  constructor(opts: { model: string; price: ModelPrice; sink: CliStreamSink }) {
    this.#model = opts.model;
    this.#price = opts.price;
    this.#sink = opts.sink;
  }

  /** The model Gemini CLI said it uses (`init.model`), else the one asked for. */
  get model(): string {
    return this.#model;
  }

  push(line: string): void {
    readStreamLine(line, this.#sink, 'stream-json', (ev) => this.#event(ev));
  }

  /**
   * Reads one line of Gemini CLI's chat recording (`$HOME/.gemini/tmp/<project>/chats/session-*.jsonl`,
   * see {@link ../gemini/invocation.ts geminiChatFiles}), in any order relative to stdout: a model turn's
   * record (`type:'gemini'` with `tokens`) adds that request's usage to `state.usage` at once and emits a
   * `usage` event. Lines of other kinds, repeated ids, unreadable lines and lines after the final
   * `result` are ignored. Never throws.
   */
  pushChatRecord(line: string): void {
    if (this.state.end !== null) return;
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch {
      return;
    }
    if (!isPlainObject(rec) || rec.type !== 'gemini' || typeof rec.id !== 'string' || !isPlainObject(rec.tokens))
      return;
    if (this.#recordIds.has(rec.id)) return;
    const t = rec.tokens;
    const prompt = num(t.input);
    const candidates = num(t.output);
    if (prompt === null || candidates === null) return;
    this.#recordIds.add(rec.id);
    const usage = geminiUsage(
      { prompt, cached: num(t.cached) ?? 0, candidates, thoughts: (num(t.thoughts) ?? 0) + (num(t.tool) ?? 0) },
      this.#price,
    );
    this.#recordedTurns += 1;
    this.#recorded = addUsage(this.#recorded, usage);
    this.state.usage = addUsage(this.state.usage, usage);
    this.#syncTurns();
    const turn = this.#recordedTurns;
    this.#sink.emit({ type: 'usage', text: `turn ${turn}: ${usageText(usage)}`, turn, usage, total: this.state.usage });
    // The usage is new; what it is doing is not (the record may be read after its tool call began).
    this.#progress(this.#activity ?? `turn ${turn} answered`);
  }

  #event(ev: Record<string, unknown>): void {
    switch (ev.type) {
      case 'init':
        if (typeof ev.session_id === 'string') this.state.sessionId = ev.session_id;
        if (typeof ev.model === 'string' && ev.model !== '') this.#model = ev.model;
        return;
      case 'message':
        if (ev.role !== 'assistant' || typeof ev.content !== 'string') return;
        this.#openTurn();
        this.#text += ev.content;
        return;
      case 'tool_use':
        return this.#toolUse(ev);
      case 'tool_result':
        return this.#toolResult(ev);
      case 'error':
        return this.#error(ev);
      case 'result':
        return this.#result(ev);
      default:
        return; // an event type this version does not write: ignored
    }
  }

  #toolUse(ev: Record<string, unknown>): void {
    this.#openTurn();
    this.#flushText();
    const name = typeof ev.tool_name === 'string' ? ev.tool_name : 'tool';
    const input = ev.parameters ?? {};
    if (typeof ev.tool_id === 'string') this.#calls.set(ev.tool_id, { name, input });
    this.#turnCalls += 1;
    const activity = activityOf(name, input);
    this.#sink.emit({ type: 'tool_call', text: activity, name, input: briefInput(input) });
    this.#progress(activity);
  }

  #toolResult(ev: Record<string, unknown>): void {
    this.#closeTurn();
    const call = typeof ev.tool_id === 'string' ? this.#calls.get(ev.tool_id) : undefined;
    const name = call?.name ?? 'tool';
    const isError = ev.status === 'error';
    const output = typeof ev.output === 'string' ? ev.output : '';
    const errorMessage = isPlainObject(ev.error) && typeof ev.error.message === 'string' ? ev.error.message : '';
    // An error's message says more than its display text ("File not found: /abs/path" vs "File not found.").
    const text = isError && errorMessage !== '' ? errorMessage : output;
    this.#sink.emit({
      type: 'tool_result',
      text: `${name}${isError ? ' (error)' : ''}: ${clipLine(text)}`,
      name,
      output: short(text, 2000),
      is_error: isError,
    });
    this.#progress(activityOf(name, call?.input));
  }

  #error(ev: Record<string, unknown>): void {
    const message = typeof ev.message === 'string' ? ev.message : JSON.stringify(ev);
    const warning = ev.severity === 'warning';
    const text = warning ? `warning: ${message}` : message;
    this.state.errors.push(text);
    this.#sink.emit({ type: 'error', text: clipLine(text, 2000) });
  }

  #result(ev: Record<string, unknown>): void {
    this.#closeTurn();
    const counts = statsTokenCounts(ev.stats);
    if (counts) {
      const final = geminiUsage(counts, this.#price);
      const rest = subtractUsage(final, this.#recorded);
      if (this.#recordIds.size === 0) {
        if (final.input_tokens + final.output_tokens + final.cache_read_tokens > 0) {
          this.#sink.emit({
            type: 'usage',
            text: `${this.state.turns} turn${this.state.turns === 1 ? '' : 's'}: ${usageText(final)}`,
            turn: this.state.turns,
            usage: final,
            total: final,
          });
        }
      } else if (rest && rest.input_tokens + rest.output_tokens + rest.cache_read_tokens > 0) {
        this.#sink.emit({
          type: 'usage',
          text: `requests not in the chat record (side requests, retries): ${usageText(rest)}`,
          turn: this.state.turns,
          usage: rest,
          total: final,
        });
      }
      this.state.usage = final;
    }
    const error = isPlainObject(ev.error) ? ev.error : null;
    const errorMessage = error && typeof error.message === 'string' ? describeGeminiError(error.message) : null;
    const lastError = this.state.errors.at(-1) ?? null;
    let end: CliEnd;
    if (ev.status === 'success') {
      end = { kind: 'success', summary: this.state.lastText ?? '' };
    } else if (error?.type === TURN_LIMIT_ERROR || (errorMessage === null && lastError === TURN_LIMIT_MESSAGE)) {
      end = { kind: 'max-turns', message: errorMessage ?? lastError ?? TURN_LIMIT_MESSAGE };
    } else {
      end = {
        kind: 'error',
        message: errorMessage ?? lastError ?? `Gemini CLI ended with status ${JSON.stringify(ev.status ?? null)}`,
      };
    }
    this.state.end = end;
    if (end.kind !== 'success' && errorMessage !== null) {
      if (end.kind === 'error') this.state.errors.push(errorMessage);
      this.#sink.emit({ type: 'error', text: clipLine(errorMessage, 2000) });
    }
    this.#progress(end.kind === 'success' ? 'finished' : `ended: ${end.kind}`);
  }

  /** Starts a model turn at its first output, unless one is going. */
  #openTurn(): void {
    if (this.#inTurn) return;
    this.#inTurn = true;
    this.#text = '';
    this.#turnCalls = 0;
    this.#visibleTurns += 1;
    this.#syncTurns();
  }

  /** Ends the current model turn: its text goes out; a turn without tool calls reports progress. */
  #closeTurn(): void {
    if (!this.#inTurn) return;
    const text = this.#text.trim();
    this.#flushText();
    this.#inTurn = false;
    if (this.#turnCalls === 0) this.#progress(clipLine(text || `turn ${this.state.turns}`));
  }

  /** Emits the current turn's text not yet emitted as one message event. */
  #flushText(): void {
    const text = this.#text.trim();
    this.#text = '';
    if (text === '') return;
    this.state.lastText = text;
    this.#sink.emit({ type: 'message', text: clipLine(text, 2000) });
  }

  #syncTurns(): void {
    this.state.turns = Math.max(this.#visibleTurns, this.#recordedTurns);
  }

  #progress(activity: string): void {
    this.#activity = activity;
    this.#sink.progress({ turn: this.state.turns, activity, usage: this.state.usage });
  }
}

/** A non-negative finite number, else null. */
function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null;
}

/** a − b, or null if any field of b is larger (the two do not describe the same requests). */
function subtractUsage(a: Usage, b: Usage): Usage | null {
  const d: Usage = {
    input_tokens: a.input_tokens - b.input_tokens,
    output_tokens: a.output_tokens - b.output_tokens,
    cache_read_tokens: a.cache_read_tokens - b.cache_read_tokens,
    cache_write_tokens: a.cache_write_tokens - b.cache_write_tokens,
    cost_usd: Math.round((a.cost_usd - b.cost_usd) * 1e9) / 1e9,
  };
  return d.input_tokens < 0 || d.output_tokens < 0 || d.cache_read_tokens < 0 ? null : d;
}

function usageText(u: Usage): string {
  return `${u.input_tokens} in, ${u.cache_read_tokens} cache read, ${u.output_tokens} out, $${u.cost_usd.toFixed(4)}`;
}
