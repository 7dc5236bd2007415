// What the agent-CLI backends (claude-code, codex, gemini) declare alike: their role keys, their
// part of an assignment, the key they need and the preflight check that their CLI is installed and
// new enough. Each CLI's descriptor.ts calls `cliBackend` with its facts.
import { z } from 'zod';
import { AGENT_KEYS, agentCore, CLI_KEYS } from '../agent-roles.js';
import type { Backend } from '../backend.js';
import { agentBackend } from '../descriptor.js';
import { cliVersion, locateCli, versionAtLeast, versionText, type Version } from './locate.js';

/** What a CLI attempt needs beyond the neutral settings (assignment.json `agent.<backend>`). */
export const CliSettingsSchema = z.object({
  /** The role's `command` as written (a path or a name); null: look for the CLI's usual name. */
  command: z.string().nullable(),
  /** The role's extra arguments, after fileswarm's own. */
  args: z.array(z.string()),
  /** Name of the environment variable holding the API key (the key itself is never written). */
  api_key_env: z.string(),
  /** API base URL (a gateway, a proxy); null: the CLI's default. */
  base_url: z.string().nullable(),
  /** Variables of the worker's environment passed through to the CLI by name. */
  pass_env: z.array(z.string()),
});
/** assignment.json `agent.<cli backend>`. */
export type CliSettings = z.infer<typeof CliSettingsSchema>;

/** The facts of one agent CLI. */
export interface CliFacts<Name extends string> {
  /** The backend's name in `backend:`. */
  name: Name;
  /** Its name for people: `Claude Code`. */
  label: string;
  /** Its executable's usual name: `claude`. */
  bin: string;
  /** The npm package that installs it: `@anthropic-ai/claude-code`. */
  npmPackage: string;
  /** The oldest version fileswarm accepts (the one its tests run), and the version tested. */
  minVersion: Version;
  /** The model of a role that names none (in the price table). */
  defaultModel: string;
  /** The variable holding the API key when the role names none: `ANTHROPIC_API_KEY`. */
  defaultKeyEnv: string;
  /** What the key is, for messages: `the Anthropic API key`. */
  keyHolds: string;
  /** Loads the worker's implementation (dynamic import). */
  load(): Promise<Backend>;
}

/** The role keys of a CLI backend, in the order swarm.yaml's reference lists them. */
function roleKeys() {
  return {
    model: AGENT_KEYS.model,
    max_turns: AGENT_KEYS.max_turns,
    max_tokens: AGENT_KEYS.max_tokens,
    max_cost_usd: AGENT_KEYS.max_cost_usd,
    instructions: AGENT_KEYS.instructions,
    api_key_env: AGENT_KEYS.api_key_env,
    base_url: AGENT_KEYS.base_url,
    command: CLI_KEYS.command,
    args: CLI_KEYS.args,
    pass_env: CLI_KEYS.pass_env,
    price: AGENT_KEYS.price,
  };
}

/** Declares an agent-CLI backend from its facts. */
export function cliBackend<const Name extends string>(f: CliFacts<Name>) {
  return agentBackend({
    name: f.name,
    agent: true,
    defaultModel: f.defaultModel,
    roleKeys,
    part: CliSettingsSchema,
    requiredEnv: (role, at) => [
      { variable: role.api_key_env ?? f.defaultKeyEnv, key: `${at}.api_key_env`, holds: f.keyHolds },
    ],
    preflight: (role, at, repo) => {
      const install = `npm install -g ${f.npmPackage}@${versionText(f.minVersion)}`;
      const file = locateCli(f.bin, role.command, repo, process.env.PATH);
      if (!file) {
        return [
          role.command === undefined
            ? `${at}: the ${f.label} CLI (\`${f.bin}\`) is not installed: it is not on PATH nor in node_modules/.bin; install it with \`${install}\`, or give its path as \`command:\``
            : `${at}.command: ${role.command} is not an executable file${role.command.includes('/') ? '' : ' on PATH'}; install ${f.label} with \`${install}\``,
        ];
      }
      const v = cliVersion(file);
      if (!v.ok) return [`${at}: ${f.label} (${file}) does not run: ${v.error}`];
      if (!versionAtLeast(v.version, f.minVersion))
        return [
          `${at}: ${f.label} ${versionText(v.version)} (${file}) is older than ${versionText(f.minVersion)}, the oldest fileswarm runs: \`${install}\``,
        ];
      return [];
    },
    agentSpec: (role, caps) => ({
      core: agentCore(role, caps, f.defaultModel),
      part: {
        command: role.command ?? null,
        args: role.args ?? [],
        api_key_env: role.api_key_env ?? f.defaultKeyEnv,
        base_url: role.base_url ?? null,
        pass_env: role.pass_env ?? [],
      },
    }),
    // The CLI gets its key; the task's `verify` does not (its output is written to the run directory).
    hiddenEnv: (settings) => [settings.api_key_env],
    load: f.load,
  });
}
