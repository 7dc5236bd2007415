// The `anthropic` backend as the config, the planner and the coordinator see it: the built-in
// agent on the Messages API, its role keys, its API key variable, and its part of an assignment.
import { z } from 'zod';
import { DEFAULTS } from '../../../config/defaults.js';
import { parseDuration, type DurationType } from '../../../config/duration.js';
import { modelInfo } from '../../../llm/prices.js';
import { AGENT_KEYS, agentCore } from '../agent-roles.js';
import { agentBackend } from '../descriptor.js';

/** Context window assumed for a model the price table does not know, tokens. */
const DEFAULT_CONTEXT = 200_000;

/** What the built-in agent needs beyond the neutral settings (assignment.json `agent.anthropic`). */
export const AnthropicSettingsSchema = z.object({
  /** Name of the environment variable holding the API key (the key itself is never written). */
  api_key_env: z.string(),
  /** API base URL; null: the SDK's default (ANTHROPIC_BASE_URL, else api.anthropic.com). */
  base_url: z.string().nullable(),
  /** `max_tokens` of each model response. */
  max_output_tokens: z.number().int(),
  /** Time limit of one `bash` tool call, ms. */
  bash_timeout_ms: z.number().int(),
  /** The model's context window, tokens; older tool results are compacted as the context nears it. */
  context_window: z.number().int(),
  /** Retries of a failed API request (429, 5xx, overloaded, connection errors). */
  api_retries: z.number().int(),
});
/** assignment.json `agent.anthropic`. */
export type AnthropicSettings = z.infer<typeof AnthropicSettingsSchema>;

/** The role keys of `backend: anthropic`, in the order swarm.yaml's reference lists them. */
function roleKeys(Duration: DurationType) {
  return {
    model: AGENT_KEYS.model,
    max_turns: AGENT_KEYS.max_turns,
    max_output_tokens: z
      .number()
      .int()
      .min(1)
      .max(1_000_000)
      .optional()
      .meta({ description: `anthropic: max_tokens of each response (default ${DEFAULTS.maxOutputTokens}).` }),
    max_tokens: AGENT_KEYS.max_tokens,
    max_cost_usd: AGENT_KEYS.max_cost_usd,
    instructions: AGENT_KEYS.instructions,
    api_key_env: AGENT_KEYS.api_key_env,
    base_url: AGENT_KEYS.base_url,
    bash_timeout: Duration.optional().meta({
      description: `anthropic: time limit of one bash tool call (default ${DEFAULTS.bashTimeout}).`,
    }),
    price: AGENT_KEYS.price,
  };
}

/** The built-in agent (src/worker/agent/) on @anthropic-ai/sdk. */
export const ANTHROPIC = agentBackend({
  name: 'anthropic',
  agent: true,
  defaultModel: DEFAULTS.model,
  roleKeys,
  part: AnthropicSettingsSchema,
  requiredEnv: (role, at) => [
    { variable: role.api_key_env ?? DEFAULTS.apiKeyEnv, key: `${at}.api_key_env`, holds: 'the Anthropic API key' },
  ],
  agentSpec: (role, caps) => {
    const core = agentCore(role, caps, DEFAULTS.model);
    return {
      core,
      part: {
        api_key_env: role.api_key_env ?? DEFAULTS.apiKeyEnv,
        base_url: role.base_url ?? null,
        max_output_tokens: role.max_output_tokens ?? DEFAULTS.maxOutputTokens,
        bash_timeout_ms: role.bash_timeout ?? parseDuration(DEFAULTS.bashTimeout)!,
        context_window: modelInfo(core.model)?.context ?? DEFAULT_CONTEXT,
        api_retries: DEFAULTS.apiRetries,
      },
    };
  },
  // The agent's commands and `verify` do not get the API key: a command's output is sent to the
  // model and written to the run directory.
  hiddenEnv: (settings) => [settings.api_key_env],
  load: async () => new (await import('./backend.js')).AnthropicBackend(),
});
