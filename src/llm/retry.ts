// Retrying model API requests: 408, 409, 429, 5xx and 529 (overloaded) and connection errors
// (unless the response says `x-should-retry: false`), with capped exponential backoff and jitter,
// honouring `retry-after-ms` / `retry-after`. The SDK can retry by itself; we do it here (clients
// are made with maxRetries: 0) so that every retry is recorded as an event, a stop of the attempt
// interrupts the wait, and the final error is ours.
import Anthropic from '@anthropic-ai/sdk';
import { setTimeout as sleep } from 'node:timers/promises';
import { CapReached } from './response-cap.js';

/** Longest wait between two tries, ms (a larger retry-after is capped to this). */
const MAX_DELAY_MS = 60_000;
/** First backoff, ms; doubled per retry. */
const BASE_DELAY_MS = 500;

/** A request that failed for good: the status (null: no response) and a message for people. */
export class ApiFailure extends Error {
  constructor(
    message: string,
    readonly status: number | null,
    /** True when retrying could not help (bad key, bad request, or the server said `x-should-retry: false`). */
    readonly permanent: boolean,
  ) {
    super(message);
    this.name = 'ApiFailure';
  }
}

/**
 * Whether an SDK error is worth retrying (Anthropic's API docs: 429, 500, 529 overloaded; plus
 * timeouts and lost connections). An error response's `x-should-retry: true|false` header decides
 * first, as in the SDK's own retry logic (@anthropic-ai/sdk 1.12, `shouldRetry` in client.js, which
 * reads it on error responses only: an error event in a stream carries the 200's headers).
 */
export function retryable(e: unknown): boolean {
  if (e instanceof Anthropic.APIUserAbortError) return false;
  if (e instanceof Anthropic.APIConnectionError) return true;
  if (e instanceof Anthropic.APIError) {
    const s = e.status;
    if (s === undefined) return true; // an error event in the middle of a stream (e.g. overloaded_error)
    const told = e.headers?.get('x-should-retry');
    if (told === 'true') return true;
    if (told === 'false') return false;
    return s === 408 || s === 409 || s === 429 || s >= 500;
  }
  // Any other SDK error is a stream that broke off: a connection reset mid-body ("terminated"), or
  // a body that ended without message_stop.
  return e instanceof Anthropic.AnthropicError;
}

/** The wait the server asked for, ms, from `retry-after-ms` or `retry-after` (seconds or an HTTP date). */
export function retryAfterMs(e: unknown): number | undefined {
  if (!(e instanceof Anthropic.APIError) || !e.headers) return undefined;
  const ms = Number.parseFloat(e.headers.get('retry-after-ms') ?? '');
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const h = e.headers.get('retry-after');
  if (!h) return undefined;
  const s = Number.parseFloat(h);
  if (Number.isFinite(s) && s >= 0) return s * 1000;
  const at = Date.parse(h);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
}

/** One line describing an SDK error (status, type, message), for events and results. */
export function describeApiError(e: unknown): string {
  if (e instanceof Anthropic.APIConnectionError && !(e instanceof Anthropic.APIConnectionTimeoutError)) {
    // "Connection error." alone does not say why: the cause does (ECONNREFUSED 127.0.0.1:9, ENOTFOUND, ...).
    let cause = e.cause as (Error & { code?: string; cause?: unknown }) | undefined;
    while (cause?.cause instanceof Error) cause = cause.cause as typeof cause;
    return cause ? `connection error: ${cause.code ? `${cause.code}: ` : ''}${cause.message}` : 'connection error';
  }
  if (e instanceof Anthropic.APIError) {
    const parts = [e.status !== undefined ? `HTTP ${e.status}` : null, e.type, e.apiMessage ?? e.message].filter(
      Boolean,
    );
    return parts.join(': ');
  }
  return (e as Error)?.message ?? String(e);
}

/** What {@link withRetries} reports before each wait. */
export interface RetryNotice {
  attempt: number;
  delayMs: number;
  error: string;
}

/**
 * Runs `request` until it succeeds, fails with a non-retryable error, or has failed
 * `retries + 1` times. Waits `retry-after` when the server gives one, else 0.5 s × 2^n with ±25 %
 * jitter, at most 60 s. An abort of `signal` ends the wait and rethrows the abort.
 * @throws ApiFailure when the request failed for good; the abort reason when `signal` aborted;
 *   a `CapReached` that `request` threw (before a retry the caller's caps ran out), as is.
 */
export async function withRetries<T>(
  request: () => Promise<T>,
  retries: number,
  signal: AbortSignal,
  onRetry: (n: RetryNotice) => void,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await request();
    } catch (e) {
      if (signal.aborted) throw signal.reason;
      if (e instanceof CapReached) throw e; // the caller's own stop, not the API's
      if (!retryable(e)) {
        const status = e instanceof Anthropic.APIError ? (e.status ?? null) : null;
        throw new ApiFailure(describeApiError(e), status, true);
      }
      if (attempt >= retries) {
        throw new ApiFailure(
          `${describeApiError(e)} (gave up after ${attempt + 1} tries)`,
          e instanceof Anthropic.APIError ? (e.status ?? null) : null,
          false,
        );
      }
      const backoff = BASE_DELAY_MS * 2 ** attempt * (0.75 + Math.random() * 0.5);
      const delayMs = Math.min(MAX_DELAY_MS, retryAfterMs(e) ?? backoff);
      onRetry({ attempt: attempt + 1, delayMs: Math.round(delayMs), error: describeApiError(e) });
      try {
        await sleep(delayMs, undefined, { signal });
      } catch {
        throw signal.reason;
      }
    }
  }
}
