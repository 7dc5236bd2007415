// The parser of Claude Code's `--output-format stream-json --verbose [--include-partial-messages]` output
// (`@anthropic-ai/claude-code` 2.1.330), line by line, into fileswarm's normalized events.
//
// stream-json, as 2.1.330 writes it (types in `@anthropic-ai/claude-agent-sdk` sdk.d.ts; measured against
// test/fixtures/fake-anthropic.ts):
// - `{type:'system', subtype:'init', session_id, model, tools, permissionMode, cwd, ...}`: not always the
//   first line (`system/ui_invalidate` may come before it). Other subtypes: `status` (`requesting`, before
//   each model request, with partial messages), `api_retry{attempt, max_retries, retry_delay_ms,
//   error_status, error}` (a failed request it will send again), `task_started` (a shell command began).
// - `{type:'stream_event', event, session_id, parent_tool_use_id}` (only with --include-partial-messages):
//   the raw SSE events of each model request. `message_start.message` has the request's id and its usage
//   (input side, output_tokens 1); `message_delta.usage` its output tokens (cumulative, like the API's),
//   written when the answer ends, before any tool runs.
// - `{type:'assistant', message:{id, model, content:[one block], usage}, session_id}`: one line per content
//   block as the block ends (a text and a tool_use of one answer are two lines with the same message.id),
//   each with `message_start`'s usage: output_tokens is 1 there, whatever the answer's length.
//   A message with `model:'<synthetic>'` (a UUID id, zero usage, `is_api_error_message: true`,
//   `api_error_status`, `error`) is Claude Code's own text about an API error, not a model request: a 401
//   ("Invalid API key · Fix external API key"), a 5xx it gave up on, or "API Error: Server error
//   mid-response. The response above may be incomplete." (then it runs the cut answer's tool calls anyway
//   and goes on).
// - `{type:'user', message:{content:[{type:'tool_result', tool_use_id, content, is_error}]},
//   tool_use_result}`: a tool's result. `content` is a string (or text blocks); a shell command that
//   exits non-zero is `is_error: true` with "Exit code N\n<output>", a failed edit
//   "<tool_use_error>String to replace not found in file...</tool_use_error>".
// - `{type:'result', subtype, is_error, result?, errors?, num_turns, total_cost_usd, usage, modelUsage,
//   api_error_status?, api_error_type?, terminal_reason, session_id}` last. Subtypes: `success` (also for an
//   API error it gave up on: then `is_error: true`, `terminal_reason:'api_error'`, `result` = the error's
//   text, exit code 1), `error_max_turns` (`errors:['Reached maximum number of turns (N)']`, num_turns N+1,
//   exit 1), `error_max_budget_usd` (`errors:['Reached maximum budget ($X)']`, exit 1),
//   `error_during_execution`. `modelUsage{<model>:{inputTokens, outputTokens, cacheReadInputTokens,
//   cacheCreationInputTokens, costUSD}}` and `total_cost_usd` cover every request; the top-level `usage`
//   does not always (measured: at a budget stop it lacks the last request; the shared capture's is all 0).
// USAGE DURING THE ATTEMPT: with --include-partial-messages (the invocation passes it), each model request's
// input-side tokens are known at its `message_start` and its output tokens at its `message_delta`, before
// its tools run and before the next request. Without it, only `message_start`'s usage (output 1) is seen per
// request; the output tokens come with the final `result`. Claude Code's own USD is known only at the end.
import type { Usage } from '../../../protocol/schemas.js';
import { isPlainObject } from '../../../util/plain-object.js';
import { costOf, type ModelPrice, type TokenCounts } from '../../../llm/prices.js';
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

/** The model Claude Code gives its own messages (API errors, slash command output): not a model request. */
export const SYNTHETIC_MODEL = '<synthetic>';

/**
 * Token counts of an Anthropic `usage` object (a message's, a `message_delta`'s): fileswarm's names, each
 * field null where the object does not have it as a non-negative number (a `message_delta` may carry only
 * `output_tokens`).
 */
export function anthropicTokens(usage: unknown): { [K in keyof TokenCounts]: number | null } {
  const u = isPlainObject(usage) ? usage : {};
  return {
    input_tokens: num(u.input_tokens),
    output_tokens: num(u.output_tokens),
    cache_read_tokens: num(u.cache_read_input_tokens),
    cache_write_tokens: num(u.cache_creation_input_tokens),
  };
}

/**
 * The whole attempt's usage from a `result` line: tokens summed over `modelUsage` (every model, every
 * request), USD = `total_cost_usd` (Claude Code's own price table), else the sum of the models' `costUSD`,
 * else the tokens priced at `price`. Null if the result has no `modelUsage` entry.
 */
export function resultUsage(result: Record<string, unknown>, price: ModelPrice): Usage | null {
  const models = isPlainObject(result.modelUsage) ? Object.values(result.modelUsage).filter(isPlainObject) : [];
  if (models.length === 0) return null;
  const tokens: TokenCounts = { input_tokens: 0, output_tokens: 0, cache_read_tokens: 0, cache_write_tokens: 0 };
  let modelCost: number | null = 0;
  for (const m of models) {
    tokens.input_tokens += num(m.inputTokens) ?? 0;
    tokens.output_tokens += num(m.outputTokens) ?? 0;
    tokens.cache_read_tokens += num(m.cacheReadInputTokens) ?? 0;
    tokens.cache_write_tokens += num(m.cacheCreationInputTokens) ?? 0;
    const c = num(m.costUSD);
    modelCost = c === null || modelCost === null ? null : modelCost + c;
  }
  const total = num(result.total_cost_usd) ?? modelCost;
  return { ...tokens, cost_usd: total === null ? costOf(tokens, price) : roundUsd(total) };
}

/**
 * A readable message for an API error Claude Code gave up on: its text, with `API error <status> <type>: `
 * in front when the text does not already name the status (2.1.330's 401 text is "Invalid API key · Fix
 * external API key"; its 5xx text begins "API Error: 500 ...").
 */
export function describeApiError(text: string, status: unknown, type: unknown): string {
  const t = text.trim();
  if (typeof status !== 'number' || t.includes(String(status))) return t;
  return `API error ${status}${typeof type === 'string' && type !== '' ? ` ${type}` : ''}: ${t}`;
}

/** One model request (an assistant message id) as far as the stream has shown it. */
interface Turn {
  /** 1-based. */
  n: number;
  tokens: TokenCounts;
  /** Its usage event was emitted. */
  reported: boolean;
}

/** A tool call seen in an assistant line, for naming its tool_result. */
interface ToolCall {
  name: string;
  input: unknown;
}

/**
 * Claude Code 2.1.330's stream-json output as fileswarm events and state.
 * - Turns: model requests = distinct `message.id`s of assistant messages (from `stream_event
 *   message_start` or `assistant` lines), synthetic ones excepted. A request that failed and was retried
 *   (`system/api_retry`) shows no message and is not counted. `result.num_turns` is not used: it counts
 *   the turn a max-turns stop refused (measured: 3 with `--max-turns 2` and 2 requests).
 * - Usage: each turn's tokens as soon as the stream shows them (`message_start`, then `message_delta` for
 *   its output; without partial messages the `assistant` line's `message_start` usage), counted once per
 *   message id, priced at `opts.price`; a `usage` event per turn when its answer ends (`message_stop`, or
 *   the next line of another kind). At `result`, Claude Code's own figures (tokens of `modelUsage`, USD of
 *   `total_cost_usd`) replace the sum; a last `usage` event shows what the turns had not (output tokens
 *   without partial messages, requests the stream did not show).
 * - Events: a `message` per text block, a `tool_call` per tool_use block, a `tool_result` per tool result
 *   (named from its tool_use), an `error` per `api_retry` and per synthetic API error message; progress
 *   after each of them and after each turn's usage.
 * - End: `success` (not is_error) → success with `result`'s text; `error_max_turns` → max-turns;
 *   `error_max_budget_usd` → budget; anything else, or is_error → error with `result`'s text (an API error:
 *   with its status), its `errors`, or the last synthetic message.
 */
export class ClaudeCodeStream implements CliStream {
  readonly state: CliStreamState = initialStreamState();

  readonly #price: ModelPrice;
  readonly #sink: CliStreamSink;
  /** The model `system/init` named (or opts.model until then). */
  #model: string;
  readonly #turns = new Map<string, Turn>();
  /** The message whose answer is streaming or was seen last, until its usage event is emitted. */
  #open: Turn | null = null;
  readonly #calls = new Map<string, ToolCall>();
  /** The last synthetic (Claude Code's own) message's text, e.g. an API error. */
  #syntheticText: string | null = null;
  #activity = 'starting';

  constructor(opts: { model: string; price: ModelPrice; sink: CliStreamSink }) {
    this.#model = opts.model;
    this.#price = opts.price;
    this.#sink = opts.sink;
  }

  /** The model Claude Code said it uses (`system/init.model`), else the one asked for. */
  get model(): string {
    return this.#model;
  }

  push(line: string): void {
    readStreamLine(line, this.#sink, 'stream-json', (ev) => this.#event(ev));
  }

  #event(ev: Record<string, unknown>): void {
    if (this.state.sessionId === null && typeof ev.session_id === 'string') this.state.sessionId = ev.session_id;
    switch (ev.type) {
      case 'system':
        return this.#system(ev);
      case 'stream_event':
        return this.#streamEvent(ev.event);
      case 'assistant':
        return this.#assistant(ev);
      case 'user':
        return this.#user(ev);
      case 'result':
        return this.#result(ev);
      default:
        return; // an event type this version does not write, or one fileswarm does not need
    }
  }

  #system(ev: Record<string, unknown>): void {
    if (ev.subtype === 'init') {
      if (typeof ev.session_id === 'string') this.state.sessionId = ev.session_id;
      if (typeof ev.model === 'string' && ev.model !== '') this.#model = ev.model;
      return;
    }
    if (ev.subtype === 'api_retry') {
      const status = typeof ev.error_status === 'number' ? ` ${ev.error_status}` : '';
      const what = typeof ev.error === 'string' ? ` (${ev.error})` : '';
      const attempt = num(ev.attempt);
      const max = num(ev.max_retries);
      const delay = num(ev.retry_delay_ms);
      const text =
        `API error${status}${what}: retry${attempt === null ? '' : ` ${attempt}`}${max === null ? '' : ` of ${max}`}` +
        `${delay === null ? '' : ` in ${Math.round(delay)} ms`}`;
      this.#error(text);
      this.#progress(`retrying the model request (API error${status})`);
      // A refused key does not get better by waiting: Claude Code retries a 401 too (with backoff, up
      // to CLAUDE_CODE_MAX_RETRIES times); the runner stops it at once.
      if (ev.error_status === 401 || ev.error_status === 403)
        this.state.fatal = `authentication failed (${ev.error_status})${typeof ev.error === 'string' ? `: ${ev.error}` : ''} — check the key in the role's api_key_env (default ANTHROPIC_API_KEY)`;
    }
  }

  #streamEvent(event: unknown): void {
    if (!isPlainObject(event)) return;
    if (event.type === 'message_start' && isPlainObject(event.message)) {
      const m = event.message;
      if (m.model === SYNTHETIC_MODEL || typeof m.id !== 'string') return;
      this.#message(m.id, m.usage);
      return;
    }
    if (event.type === 'message_delta' && this.#open) {
      this.#updateTokens(this.#open, event.usage);
      return;
    }
    if (event.type === 'message_stop') this.#closeTurn();
  }

  #assistant(ev: Record<string, unknown>): void {
    const m = isPlainObject(ev.message) ? ev.message : null;
    if (!m) return;
    const blocks = Array.isArray(m.content) ? m.content.filter(isPlainObject) : [];
    if (m.model === SYNTHETIC_MODEL || ev.is_api_error_message === true) {
      const text = blocks
        .map((b) => (b.type === 'text' && typeof b.text === 'string' ? b.text : ''))
        .join('\n')
        .trim();
      if (text === '') return;
      this.#syntheticText = describeApiError(text, ev.api_error_status, ev.api_error_type);
      if (ev.is_api_error_message === true || typeof ev.error === 'string') this.#error(this.#syntheticText);
      else this.#sink.emit({ type: 'log', text: clipLine(text, 2000) }); // e.g. a slash command's output
      return;
    }
    if (typeof m.id === 'string') this.#message(m.id, m.usage);
    for (const b of blocks) {
      if (b.type === 'text' && typeof b.text === 'string') {
        const text = b.text.trim();
        if (text === '') continue;
        this.state.lastText = text;
        this.#sink.emit({ type: 'message', text: clipLine(text, 2000) });
        this.#progress(clipLine(text));
      } else if (b.type === 'tool_use') {
        const name = typeof b.name === 'string' ? b.name : 'tool';
        const input = b.input ?? {};
        if (typeof b.id === 'string') this.#calls.set(b.id, { name, input });
        const activity = activityOf(name, input);
        this.#sink.emit({ type: 'tool_call', text: activity, name, input: briefInput(input) });
        this.#progress(activity);
      }
      // thinking / redacted_thinking blocks: not shown
    }
  }

  #user(ev: Record<string, unknown>): void {
    const m = isPlainObject(ev.message) ? ev.message : null;
    const blocks = m && Array.isArray(m.content) ? m.content.filter(isPlainObject) : [];
    const results = blocks.filter((b) => b.type === 'tool_result');
    if (results.length === 0) return;
    // The answer that asked for these tools has ended (without partial messages, this is where it shows).
    this.#closeTurn();
    for (const b of results) {
      const call = typeof b.tool_use_id === 'string' ? this.#calls.get(b.tool_use_id) : undefined;
      const name = call?.name ?? 'tool';
      const isError = b.is_error === true;
      const output = contentText(b.content);
      this.#sink.emit({
        type: 'tool_result',
        text: `${name}${isError ? ' (error)' : ''}: ${clipLine(output)}`,
        name,
        output: short(output, 2000),
        is_error: isError,
      });
      this.#progress(activityOf(name, call?.input));
    }
  }

  #result(ev: Record<string, unknown>): void {
    this.#closeTurn();
    const seen = this.state.usage;
    const final = resultUsage(ev, this.#price);
    if (final) {
      const rest = subtractTokens(final, seen);
      if (rest === null) {
        const text = `Claude Code's totals (fewer tokens than its requests showed): ${usageText(final)}`;
        this.#sink.emit({ type: 'usage', text, turn: this.state.turns, usage: final, total: final });
      } else if (rest.input_tokens + rest.output_tokens + rest.cache_read_tokens + rest.cache_write_tokens > 0) {
        const usage = { ...rest, cost_usd: costOf(rest, this.#price) };
        const text = `usage shown only at the end (output tokens without partial messages): ${usageText(usage)}`;
        this.#sink.emit({ type: 'usage', text, turn: this.state.turns, usage, total: final });
      }
      this.state.usage = final;
    } else {
      // No modelUsage (no request got an answer): the tokens seen, at Claude Code's price if it gives one.
      const cost = num(ev.total_cost_usd);
      if (cost !== null) this.state.usage = { ...seen, cost_usd: roundUsd(cost) };
    }

    const errors = Array.isArray(ev.errors) ? ev.errors.filter((e): e is string => typeof e === 'string') : [];
    const resultText = typeof ev.result === 'string' ? ev.result : null;
    let end: CliEnd;
    if (ev.subtype === 'success' && ev.is_error !== true) {
      end = { kind: 'success', summary: resultText ?? this.state.lastText ?? '' };
    } else if (ev.subtype === 'error_max_turns') {
      end = { kind: 'max-turns', message: errors.join('; ') || 'Reached the maximum number of turns' };
    } else if (ev.subtype === 'error_max_budget_usd') {
      end = { kind: 'budget', message: errors.join('; ') || 'Reached the maximum budget' };
    } else {
      const text =
        (resultText !== null && resultText.trim() !== ''
          ? describeApiError(resultText, ev.api_error_status, ev.api_error_type)
          : null) ??
        (errors.length > 0 ? errors.join('; ') : null) ??
        this.#syntheticText ??
        `Claude Code ended with ${typeof ev.subtype === 'string' ? ev.subtype : 'an error'}`;
      end = { kind: 'error', message: text };
    }
    this.state.end = end;
    if (end.kind === 'error') {
      if (this.state.errors.at(-1) !== end.message) this.#error(end.message); // else the synthetic message said it
    } else if (end.kind !== 'success') {
      this.#sink.emit({ type: 'error', text: clipLine(end.message, 2000) }); // a limit, not an error on the way
    }
    this.#progress(end.kind === 'success' ? 'finished' : `ended: ${end.kind}`);
  }

  /** A model request's message, by id: a new turn the first time (its usage counted), nothing after. */
  #message(id: string, usage: unknown): void {
    if (this.#turns.has(id)) return;
    if (this.#open) this.#closeTurn();
    const turn: Turn = {
      n: this.#turns.size + 1,
      tokens: { input_tokens: 0, output_tokens: 0, cache_read_tokens: 0, cache_write_tokens: 0 },
      reported: false,
    };
    this.#turns.set(id, turn);
    this.state.turns = turn.n;
    this.#open = turn;
    this.#updateTokens(turn, usage);
    this.#progress(`turn ${turn.n}: model answering`);
  }

  /** Sets a turn's token fields the usage object has (cumulative, as the API reports them) and the total. */
  #updateTokens(turn: Turn, usage: unknown): void {
    const t = anthropicTokens(usage);
    const before = turn.tokens;
    const after: TokenCounts = {
      input_tokens: t.input_tokens ?? before.input_tokens,
      output_tokens: t.output_tokens ?? before.output_tokens,
      cache_read_tokens: t.cache_read_tokens ?? before.cache_read_tokens,
      cache_write_tokens: t.cache_write_tokens ?? before.cache_write_tokens,
    };
    turn.tokens = after;
    const u = this.state.usage;
    const tokens: TokenCounts = {
      input_tokens: u.input_tokens + after.input_tokens - before.input_tokens,
      output_tokens: u.output_tokens + after.output_tokens - before.output_tokens,
      cache_read_tokens: u.cache_read_tokens + after.cache_read_tokens - before.cache_read_tokens,
      cache_write_tokens: u.cache_write_tokens + after.cache_write_tokens - before.cache_write_tokens,
    };
    this.state.usage = { ...tokens, cost_usd: costOf(tokens, this.#price) };
  }

  /** Emits the open turn's usage event, once. */
  #closeTurn(): void {
    const turn = this.#open;
    this.#open = null;
    if (!turn || turn.reported) return;
    turn.reported = true;
    const usage: Usage = { ...turn.tokens, cost_usd: costOf(turn.tokens, this.#price) };
    this.#sink.emit({
      type: 'usage',
      text: `turn ${turn.n}: ${usageText(usage)}`,
      turn: turn.n,
      usage,
      total: this.state.usage,
    });
    this.#progress(this.#activity);
  }

  #error(text: string): void {
    this.state.errors.push(text);
    this.#sink.emit({ type: 'error', text: clipLine(text, 2000) });
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

const roundUsd = (usd: number): number => Math.round(usd * 1e9) / 1e9;

/** A tool_result's content as text: the string, or its text blocks joined (`[image]` for an image). */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return content === undefined || content === null ? '' : JSON.stringify(content);
  return content
    .map((b: unknown) =>
      isPlainObject(b) && b.type === 'text' && typeof b.text === 'string'
        ? b.text
        : isPlainObject(b) && typeof b.type === 'string'
          ? `[${b.type}]`
          : '',
    )
    .join('\n');
}

/** a − b in tokens, or null if any field of b is larger (they do not describe the same requests). */
function subtractTokens(a: TokenCounts, b: TokenCounts): TokenCounts | null {
  const d: TokenCounts = {
    input_tokens: a.input_tokens - b.input_tokens,
    output_tokens: a.output_tokens - b.output_tokens,
    cache_read_tokens: a.cache_read_tokens - b.cache_read_tokens,
    cache_write_tokens: a.cache_write_tokens - b.cache_write_tokens,
  };
  return d.input_tokens < 0 || d.output_tokens < 0 || d.cache_read_tokens < 0 || d.cache_write_tokens < 0 ? null : d;
}

function usageText(u: Usage): string {
  return (
    `${u.input_tokens} in, ${u.cache_read_tokens} cache read, ${u.cache_write_tokens} cache write, ` +
    `${u.output_tokens} out, $${u.cost_usd.toFixed(4)}`
  );
}
