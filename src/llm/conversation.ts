// What the agent loop and the planner share about a Messages API conversation: one streamed
// request and what it cost (also when it failed midway), where the rolling prompt-cache breakpoint
// goes, and whether an answer was cut off (and inside which tool call).
// Stop reasons: platform.claude.com, "Handling stop reasons"; the values are the SDK's
// `StopReason` (@anthropic-ai/sdk 1.12).
import type Anthropic from '@anthropic-ai/sdk';
import type { TokenCounts } from './prices.js';
import { CapReached, type ResponseCap } from './response-cap.js';
import { withRetries, type RetryNotice } from './retry.js';

type Param = Anthropic.Messages.MessageParam;
type Block = Anthropic.Messages.ContentBlockParam;

/** The token counts of an API `usage` (absent cache fields count 0). */
export function tokensOf(u: Anthropic.Messages.Usage): TokenCounts {
  return {
    input_tokens: u.input_tokens,
    output_tokens: u.output_tokens,
    cache_read_tokens: u.cache_read_input_tokens ?? 0,
    cache_write_tokens: u.cache_creation_input_tokens ?? 0,
  };
}

/**
 * Streams one request to its final message. A stream that fails or is aborted after
 * `message_start` was billed for its prompt (and the output so far): the tokens its snapshot
 * reports (the prompt's, and `message_start`'s output count) go to `onPartial` before the error is
 * rethrown, so they can be counted.
 * @throws what the SDK throws (APIError, APIConnectionError, APIUserAbortError, ...)
 */
export async function streamAnswer(
  client: Anthropic,
  params: Anthropic.Messages.MessageStreamParams,
  signal: AbortSignal,
  onPartial: (tokens: TokenCounts) => void,
): Promise<Anthropic.Messages.Message> {
  const stream = client.messages.stream(params, { signal });
  // The SDK updates this snapshot as events come (message_delta's usage too), but drops its own
  // reference when a body ends without message_stop: keep ours from message_start.
  let started: Anthropic.Messages.Message | undefined;
  stream.on('streamEvent', (event, snapshot) => {
    if (event.type === 'message_start') started = snapshot;
  });
  try {
    return await stream.finalMessage();
  } catch (e) {
    if (started) onPartial(tokensOf(started.usage));
    throw e;
  }
}

/** What {@link askSized} needs: the request without its `max_tokens`, and how to size, charge and report. */
export interface SizedAsk {
  client: Anthropic;
  params: Omit<Anthropic.Messages.MessageStreamParams, 'max_tokens'>;
  signal: AbortSignal;
  /** Retries after the first try (`withRetries`). */
  retries: number;
  /** The response's `max_tokens` under the caps, from what is spent now (`responseCap`); asked before each try. */
  size(): ResponseCap;
  /** The tokens a try that failed after `message_start` was billed for (charge them: the next `size()` sees them). */
  onPartial(tokens: TokenCounts): void;
  onRetry(n: RetryNotice): void;
}

/**
 * One request of a conversation (the agent's turn, the planner's request), retried by
 * `withRetries`, each try sized by `size()` on what is spent then: the prompts of tries that failed
 * midway, charged through `onPartial`, shorten the next try or stop it.
 * @returns the answer, and the `max_tokens` it was asked with
 * @throws CapReached when `size()` leaves too little (before the first try too); ApiFailure when
 *   the request failed for good; the abort reason when `signal` aborted
 */
export async function askSized(a: SizedAsk): Promise<{ message: Anthropic.Messages.Message; maxTokens: number }> {
  let maxTokens = 0;
  const message = await withRetries(
    () => {
      const cap = a.size();
      if (cap.kind === 'stop') throw new CapReached(cap.cap);
      maxTokens = cap.maxTokens;
      return streamAnswer(a.client, { ...a.params, max_tokens: maxTokens }, a.signal, a.onPartial);
    },
    a.retries,
    a.signal,
    a.onRetry,
  );
  return { message, maxTokens };
}

/**
 * The messages to send: the conversation with one cache breakpoint on the last block of the
 * newest message, so the next request reads everything before it from the cache (Anthropic's
 * prompt caching finds the longest cached prefix ending at or up to 20 blocks before a breakpoint).
 */
export function withRollingBreakpoint(messages: readonly Param[]): Param[] {
  const out = messages.slice();
  const last = out.at(-1);
  if (!last) return out;
  const blocks: Block[] =
    typeof last.content === 'string' ? [{ type: 'text', text: last.content }] : last.content.slice();
  const i = blocks.length - 1;
  blocks[i] = { ...blocks[i], cache_control: { type: 'ephemeral' } } as Block;
  out[out.length - 1] = { ...last, content: blocks } as Param;
  return out;
}

/**
 * What cut an answer off before the model ended it: its `max_tokens`, or the model's context
 * window (`model_context_window_exceeded`); null when it ended as the model meant (`end_turn`,
 * `tool_use`, `stop_sequence`) or was refused.
 */
export function cutOffBy(
  message: Pick<Anthropic.Messages.Message, 'stop_reason'>,
): 'max_tokens' | 'context window' | null {
  if (message.stop_reason === 'max_tokens') return 'max_tokens';
  if (message.stop_reason === 'model_context_window_exceeded') return 'context window';
  return null;
}

/**
 * The tool call an answer stopped inside: its last block, when that is a `tool_use` and the answer
 * was cut off or refused. Its `input` is only what the SDK could parse of the partial JSON (a
 * `write_file` with half its content, a plan missing its last tasks): it must not be used.
 */
export function unfinishedToolUse(
  message: Pick<Anthropic.Messages.Message, 'stop_reason' | 'content'>,
): Anthropic.Messages.ToolUseBlock | undefined {
  const last = message.content.at(-1);
  const stopped = cutOffBy(message) !== null || message.stop_reason === 'refusal';
  return stopped && last?.type === 'tool_use' ? last : undefined;
}
