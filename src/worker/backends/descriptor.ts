// What fileswarm knows of a backend without loading it (the config, the plan validator, the
// planner and the coordinator use this; only a worker loads the implementation).
import type { z } from 'zod';
import type { DurationType } from '../../config/duration.js';
import type { AgentCore } from '../../protocol/schemas.js';
import type { Backend } from './backend.js';

/** An environment variable a backend needs before a run starts, and where the config names it. */
export interface EnvNeed {
  /** The variable, e.g. `ANTHROPIC_API_KEY`. */
  variable: string;
  /** The config key that names it, e.g. `roles.coder.api_key_env` (for the message). */
  key: string;
  /** What it holds, for the message: `the Anthropic API key`. */
  holds: string;
}

/** A role as a backend's code reads it: the keys of its own role schema, all optional. */
export type RoleOf<Keys extends z.ZodRawShape> = { [K in keyof Keys]?: z.output<Keys[K]> };

/** The caps an agent attempt gets from the budget (`nextAttemptCaps`), and where each came from. */
export type AgentCaps = Pick<AgentCore, 'max_cost_usd' | 'max_tokens' | 'cap_source'>;

/** What every backend declares. */
interface DescriptorBase<Name extends string, Keys extends z.ZodRawShape> {
  /** The value of `backend:` in a role, and of `backend` in plan.json's tasks. */
  readonly name: Name;
  /**
   * Its keys in `roles.<name>` beyond `backend`, `timeout`, `retries` and `env`. Built around the
   * config's duration type, so a duration key (e.g. `bash_timeout`) reads seconds in swarm.yaml
   * and milliseconds in run.json's snapshot. Two backends that share a key share its schema
   * (agent-roles.ts), or the registry refuses to load.
   */
  roleKeys(Duration: DurationType): Keys;
  /**
   * The environment variables a role of this backend needs, checked before a run starts (a run
   * that lacks one writes nothing and exits 2). `at` is the role's config path, `roles.<name>`.
   */
  requiredEnv(role: RoleOf<Keys>, at: string): EnvNeed[];
  /**
   * What else must hold before a run starts (e.g. its CLI is installed and new enough), as
   * messages that say how to fix each; [] when ready. Called once per role a run uses, on the
   * coordinator's host, before anything is written. May run a subprocess (`--version`).
   * @param at the role's config path, `roles.<name>`
   * @param repo the repository the run works on (absolute)
   */
  preflight?(role: RoleOf<Keys>, at: string, repo: string): string[];
  /**
   * Loads its implementation. Only a worker calls this: the import is dynamic so that the config,
   * the coordinator and the readers do not load a backend's SDK.
   */
  load(): Promise<Backend>;
}

/** A backend that runs something given: its tasks take `run:`, it has no caps and reports no usage. */
export interface CommandDescriptor<Name extends string, Keys extends z.ZodRawShape> extends DescriptorBase<Name, Keys> {
  readonly agent: false;
}

/**
 * An agent backend: its tasks take a `description`, the planner may give it tasks, it gets budget
 * caps in its assignment (`agent`) and reports usage and turns.
 */
export interface AgentDescriptor<
  Name extends string,
  Keys extends z.ZodRawShape,
  Part extends z.ZodObject,
> extends DescriptorBase<Name, Keys> {
  readonly agent: true;
  /** The model of a role that names none (it must be in the price table, src/llm/prices.ts). */
  readonly defaultModel: string;
  /** The schema of its own settings in assignment.json, under `agent.<name>`. */
  readonly part: Part;
  /**
   * Resolves a role of this backend into the attempt's agent settings: the backend-neutral core
   * (model, caps, instructions, price) and its own part.
   * @throws Error if the model has no price (loadConfig refuses such configs, so this is a bug)
   */
  agentSpec(role: RoleOf<Keys>, caps: AgentCaps): { core: AgentCore; part: z.output<Part> };
  /** Variables of the worker's environment that the attempt's processes (its commands, `verify`) must not see: the API key. */
  hiddenEnv(part: z.output<Part>): string[];
}

/** Declares a command-like backend (an identity function that keeps the literal types). */
export function commandBackend<const Name extends string, Keys extends z.ZodRawShape>(
  d: CommandDescriptor<Name, Keys>,
): CommandDescriptor<Name, Keys> {
  return d;
}

/** Declares an agent backend (an identity function that keeps the literal types). */
export function agentBackend<const Name extends string, Keys extends z.ZodRawShape, Part extends z.ZodObject>(
  d: AgentDescriptor<Name, Keys, Part>,
): AgentDescriptor<Name, Keys, Part> {
  return d;
}
