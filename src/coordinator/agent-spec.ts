// The `agent` part of an assignment: a role's model, limits and price, resolved with defaults and
// with the caps the budget allows this attempt.
import { DEFAULTS } from '../config/defaults.js';
import { parseDuration } from '../config/duration.js';
import type { RoleSpec } from '../config/schema.js';
import { modelInfo, priceWithDefaults } from '../llm/prices.js';
import type { AgentSpec } from '../protocol/schemas.js';
import type { Caps, CapSources } from './budget.js';

/** Context window assumed for a model the price table does not know, tokens. */
const DEFAULT_CONTEXT = 200_000;

/**
 * Resolves an agent role into the settings its attempt gets.
 * @param role an `anthropic` role of the config (validated by loadConfig: its model has a price)
 * @param caps the attempt's caps (from nextAttemptCaps)
 * @param source where each cap came from: the role's own, or the run budget's share
 * @throws Error if the model has no price (loadConfig refuses such configs, so this is a bug)
 */
export function agentSpecFor(role: RoleSpec, caps: Caps, source: CapSources): AgentSpec {
  const model = role.model ?? DEFAULTS.model;
  const known = modelInfo(model);
  const price = role.price ? priceWithDefaults(role.price) : known?.price;
  if (!price) throw new Error(`model "${model}" has no price`);
  return {
    model,
    api_key_env: role.api_key_env ?? DEFAULTS.apiKeyEnv,
    base_url: role.base_url ?? null,
    max_turns: role.max_turns ?? DEFAULTS.maxTurns,
    max_output_tokens: role.max_output_tokens ?? DEFAULTS.maxOutputTokens,
    max_tokens: caps.max_tokens,
    max_cost_usd: caps.max_cost_usd,
    cap_source: source,
    bash_timeout_ms: role.bash_timeout ?? parseDuration(DEFAULTS.bashTimeout)!,
    context_window: known?.context ?? DEFAULT_CONTEXT,
    instructions: role.instructions ?? null,
    price,
    api_retries: DEFAULTS.apiRetries,
  };
}
