// The one place that knows the backends. Adding one is a folder under src/worker/backends/ (a
// descriptor.ts and the backend.ts it loads) and an entry in DESCRIPTORS; nothing else names it.
//
// This module is light on purpose: the config's schema, the protocol's schemas, the plan validator,
// the planner and the coordinator import it. It holds descriptors only (names, role keys,
// environment, assignment part); a backend's implementation, with its SDK, is loaded by a worker
// through `loadBackend`.
import type { z } from 'zod';
import { Duration as UserDuration, type DurationType } from '../../config/duration.js';
import type { AgentSpec } from '../../protocol/schemas.js';
import { ANTHROPIC } from './anthropic/descriptor.js';
import type { Backend } from './backend.js';
import { CLAUDE_CODE } from './claude-code/descriptor.js';
import { CODEX } from './codex/descriptor.js';
import { COMMAND } from './command/descriptor.js';
import { GEMINI } from './gemini/descriptor.js';
import type { AgentCaps, EnvNeed, RoleOf } from './descriptor.js';

/** Every backend, in the order the config's enum and its JSON Schema list them. */
const DESCRIPTORS = [COMMAND, ANTHROPIC, CLAUDE_CODE, CODEX, GEMINI] as const;

type Descriptor = (typeof DESCRIPTORS)[number];
type AgentDescriptors = Extract<Descriptor, { agent: true }>;

/** A backend's name: the value of `backend:` in a role and of `backend` in plan.json's tasks. */
export type BackendName = Descriptor['name'];

/** The backends' names, for the zod enums of the config (`BackendName`) and of plan.json. */
export const BACKEND_NAMES = DESCRIPTORS.map((d) => d.name) as [BackendName, ...BackendName[]];

/** The backend of a task without a role (it has `run:`). */
export const DEFAULT_BACKEND: BackendName = COMMAND.name;

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;

/** Every backend's role keys in one shape (a key two backends share has one schema). */
export type BackendRoleKeys = UnionToIntersection<ReturnType<Descriptor['roleKeys']>>;

/** A role of the config as the registry reads it: its backend and the keys of every backend (all optional). */
export type AnyRole = RoleOf<BackendRoleKeys> & { backend: BackendName };

const byName = new Map<string, Descriptor>(DESCRIPTORS.map((d) => [d.name, d]));

/** @throws Error for a name that is not a backend's (the schemas refuse those, so this is a bug). */
function descriptorOf(name: BackendName): Descriptor {
  const d = byName.get(name);
  if (!d) throw new Error(`unknown backend "${name}"`);
  return d;
}

/**
 * Whether a backend is an agent: its tasks take a `description` (not `run:`), the planner may give
 * it tasks, it gets budget caps in its assignment (`agent`) and reports usage.
 * @throws Error for a name that is not a backend's (the schemas refuse those, so this is a bug)
 */
export function isAgentBackend(name: BackendName): boolean {
  return descriptorOf(name).agent;
}

/**
 * The role keys of every backend, merged in DESCRIPTORS order, for the config's role schema
 * (`configSchemas`), built around its duration type (seconds in swarm.yaml, ms in run.json).
 * @throws Error if two backends declare one key with different schemas (take shared keys from agent-roles.ts)
 */
export function backendRoleKeys(Duration: DurationType): BackendRoleKeys {
  const shape: Record<string, z.ZodType> = {};
  const owner: Record<string, string> = {};
  for (const d of DESCRIPTORS) {
    for (const [key, schema] of Object.entries(d.roleKeys(Duration) as z.ZodRawShape)) {
      if (shape[key] && shape[key] !== schema)
        throw new Error(`role key "${key}" is declared by backends ${owner[key]} and ${d.name} with different schemas`);
      shape[key] = schema as z.ZodType;
      owner[key] ??= d.name;
    }
  }
  return shape as BackendRoleKeys;
}

/** Role keys by backend, computed once (the key names do not depend on the duration type). */
let keyNames: Map<BackendName, readonly string[]> | undefined;

function roleKeyNames(): Map<BackendName, readonly string[]> {
  keyNames ??= new Map(DESCRIPTORS.map((d) => [d.name, Object.keys(d.roleKeys(UserDuration) as object)]));
  return keyNames;
}

/** The role keys a backend takes beyond `backend`, `timeout`, `retries` and `env`. */
export function roleKeysOf(name: BackendName): readonly string[] {
  return roleKeyNames().get(name) ?? [];
}

/** The backends that take a role key, in DESCRIPTORS order (for "`key` is for ..." messages). */
export function backendsTaking(key: string): BackendName[] {
  return DESCRIPTORS.filter((d) => roleKeysOf(d.name).includes(key)).map((d) => d.name);
}

/**
 * The environment variables a role needs before a run starts (its backend's, e.g. the API key's
 * variable), each with the config key that names it.
 * @param roleName the role's name in `roles:`
 * @throws Error for a backend name that is not a backend's (a bug, as for isAgentBackend)
 */
export function requiredEnv(roleName: string, role: AnyRole): EnvNeed[] {
  return descriptorOf(role.backend).requiredEnv(role, `roles.${roleName}`);
}

/**
 * What a role's backend needs before a run starts beyond environment variables (its CLI installed
 * and new enough), as messages that say how to fix each; [] when ready (and for backends with no
 * such check). May run the CLI's `--version`.
 * @param roleName the role's name in `roles:`
 * @param repo the repository the run works on (absolute)
 */
export function preflight(roleName: string, role: AnyRole, repo: string): string[] {
  const d = descriptorOf(role.backend);
  return d.preflight?.(role, `roles.${roleName}`, repo) ?? [];
}

/** The model an agent backend's roles use when they name none; undefined for command backends. */
export function defaultModelOf(name: BackendName): string | undefined {
  const d = descriptorOf(name);
  return d.agent ? d.defaultModel : undefined;
}

/**
 * Resolves an agent role into assignment.json `agent`: the neutral core (model, max_turns, caps
 * and their sources, instructions, price) and, under the backend's name, its own settings.
 * @param role an agent role of the config (validated by loadConfig: its model has a price)
 * @param caps the attempt's caps, USD and tokens (from nextAttemptCaps; null: none)
 * @param source where each cap came from: the role's own, or the run budget's share
 * @throws Error if the role's backend is not an agent, or its model has no price (both bugs)
 */
export function agentSpecFor(
  role: AnyRole,
  caps: Pick<AgentCaps, 'max_cost_usd' | 'max_tokens'>,
  source: AgentCaps['cap_source'],
): AgentSpec {
  const d = descriptorOf(role.backend);
  if (!d.agent) throw new Error(`backend "${d.name}" is not an agent`);
  const { core, part } = d.agentSpec(role, { ...caps, cap_source: source });
  return { ...core, [d.name]: part } as AgentSpec;
}

/** The shape of each agent backend's part of assignment.json `agent`, under its name (optional: only its own is there). */
export type AgentSpecParts = { [D in AgentDescriptors as D['name']]: z.ZodOptional<D['part']> };

/** The schemas of the agent backends' parts, for protocol/schemas.ts `AgentSpecSchema`. */
export function agentSpecParts(): AgentSpecParts {
  const parts: Record<string, z.ZodType> = {};
  for (const d of DESCRIPTORS) if (d.agent) parts[d.name] = d.part.optional();
  return parts as AgentSpecParts;
}

/**
 * Variables of the worker's environment that an attempt's processes must not see (an agent's API
 * key), from the backend parts present in its `agent` settings. Empty for command tasks.
 */
export function hiddenEnv(agent: AgentSpec | null): string[] {
  if (!agent) return [];
  const hidden: string[] = [];
  for (const d of DESCRIPTORS) {
    if (!d.agent) continue;
    const part = agent[d.name];
    // Each descriptor reads its own part (the union of descriptors cannot say which is which).
    if (part) hidden.push(...(d.hiddenEnv as (p: typeof part) => string[])(part));
  }
  return hidden;
}

/**
 * Loads a backend's implementation (a worker's call; dynamic import).
 * @throws Error if the name is unknown or its module cannot be loaded
 */
export function loadBackend(name: BackendName): Promise<Backend> {
  return descriptorOf(name).load();
}
