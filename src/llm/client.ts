// Making an Anthropic client from a role's or the planner's settings. The API key is read from the
// environment variable the config names, here and nowhere else; it is never written anywhere.
import Anthropic from '@anthropic-ai/sdk';
import { err, ok, type Result } from '../util/result.js';

/** Where the key and the endpoint come from. */
export interface ClientSettings {
  /** Name of the environment variable that holds the API key. */
  api_key_env: string;
  /** Base URL; null/undefined: the SDK's (ANTHROPIC_BASE_URL, else https://api.anthropic.com). */
  base_url?: string | null;
}

/** Request timeout, ms: a streamed response that stalls this long is retried. */
const REQUEST_TIMEOUT_MS = 10 * 60_000;

/**
 * A client for `settings`, with the SDK's own retries off (see retry.ts). Fails with a message
 * naming the variable when the key is not set.
 */
export function makeClient(settings: ClientSettings, env: NodeJS.ProcessEnv = process.env): Result<Anthropic, string> {
  const apiKey = env[settings.api_key_env];
  if (!apiKey) return err(`the environment variable ${settings.api_key_env} (the API key) is not set`);
  return ok(
    new Anthropic({
      apiKey,
      baseURL: settings.base_url ?? env.ANTHROPIC_BASE_URL ?? undefined,
      maxRetries: 0,
      timeout: REQUEST_TIMEOUT_MS,
    }),
  );
}
