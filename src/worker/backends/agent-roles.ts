// What every agent backend shares: the role keys that mean the same for all of them (model, caps,
// instructions, price), and the backend-neutral core of an attempt's agent settings built from them.
import { z } from 'zod';
import { DEFAULTS } from '../../config/defaults.js';
import { PriceSpec } from '../../config/price.js';
import { modelInfo, priceWithDefaults } from '../../llm/prices.js';
import type { AgentCore } from '../../protocol/schemas.js';
import type { AgentCaps, RoleOf } from './descriptor.js';

/**
 * Role keys every agent backend takes, one schema each: a backend lists the ones it takes in its
 * `roleKeys` by reference, so two backends cannot give one key two meanings (the registry checks).
 */
export const AGENT_KEYS = {
  model: z
    .string()
    .min(1)
    .optional()
    .meta({
      description: `agent roles: model id (default: the backend's; ${DEFAULTS.model} for anthropic and claude-code).`,
    }),
  max_turns: z
    .number()
    .int()
    .min(1)
    .max(10_000)
    .optional()
    .meta({ description: `agent roles: model requests per attempt (default ${DEFAULTS.maxTurns}).` }),
  max_tokens: z
    .number()
    .int()
    .min(1)
    .optional()
    .meta({ description: 'agent roles: tokens (input + output + cache) per attempt.' }),
  max_cost_usd: z.number().positive().optional().meta({ description: 'agent roles: cost per attempt, USD.' }),
  instructions: z.string().optional().meta({ description: 'agent roles: added to the system prompt.' }),
  price: PriceSpec.optional().meta({ description: 'agent roles: prices of a model the built-in table does not know.' }),
  api_key_env: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
    .optional()
    .meta({
      description: `agent roles: environment variable holding the API key (default: the backend's, e.g. ${DEFAULTS.apiKeyEnv}).`,
    }),
  base_url: z.url().optional().meta({
    description:
      'agent roles: API base URL, e.g. a gateway or proxy (default: anthropic reads $ANTHROPIC_BASE_URL; a CLI its own default, or its variable if `pass_env` names it).',
  }),
};

/**
 * Role keys of the backends that run an agent CLI (claude-code, codex, gemini), one schema each.
 */
export const CLI_KEYS = {
  command: z.string().min(1).optional().meta({
    description:
      "CLI roles: the CLI's executable (default: found on PATH, then in the repository's and fileswarm's node_modules/.bin).",
  }),
  args: z.array(z.string()).optional().meta({ description: "CLI roles: extra arguments, after fileswarm's own." }),
  pass_env: z
    .array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/))
    .optional()
    .meta({
      description:
        "CLI roles: variables of fileswarm's environment passed through to the CLI by name (nothing else is, beyond PATH, the key and the role's `env`).",
    }),
};

/** A role as agentCore reads it. */
export type AgentRole = RoleOf<typeof AGENT_KEYS>;

/**
 * The backend-neutral core of an agent attempt's settings (assignment.json `agent`): the role's
 * model (default: the backend's `defaultModel`), turns, instructions and price (its `price:` with the cache
 * defaults, else the table's), with the caps the budget gives this attempt.
 * @param role an agent role of the config (validated by loadConfig: its model has a price)
 * @param caps the attempt's caps, USD and tokens (from nextAttemptCaps), and where each came from
 * @param defaultModel the backend's model for a role that names none
 * @throws Error if the model has no price (loadConfig refuses such configs, so this is a bug)
 */
export function agentCore(role: AgentRole, caps: AgentCaps, defaultModel: string): AgentCore {
  const model = role.model ?? defaultModel;
  const price = role.price ? priceWithDefaults(role.price) : modelInfo(model)?.price;
  if (!price) throw new Error(`model "${model}" has no price`);
  return {
    model,
    max_turns: role.max_turns ?? DEFAULTS.maxTurns,
    max_tokens: caps.max_tokens,
    max_cost_usd: caps.max_cost_usd,
    cap_source: caps.cap_source,
    instructions: role.instructions ?? null,
    price,
  };
}
