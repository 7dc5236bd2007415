// How a CLI backend starts its CLI: the contract every CLI's `invocation.ts` implements. It turns
// an attempt's settings into an argv, an environment built from nothing (no variable of the
// worker's environment reaches the CLI unless named here), and the files its configuration home
// needs, so the user's own sessions and settings are neither read nor changed.

/** What an attempt asks of its CLI. */
export interface CliInvocationInput {
  /** The CLI's executable, absolute. */
  command: string;
  /** The whole task prompt (the CLI's user message). */
  prompt: string;
  /** Added to the CLI's system prompt (the role's `instructions` and fileswarm's rules); null: none. */
  instructions: string | null;
  /** Model id. */
  model: string;
  /** The CLI's own turn limit, where it has one; null: none. */
  maxTurns: number | null;
  /** The CLI's own budget limit, USD, where it has one; null: none. */
  maxCostUsd: number | null;
  /** API base URL (a gateway, a proxy, or a test's fake); null: the CLI's default. */
  baseUrl: string | null;
  /** The API key: the variable the role names, and its value from the worker's environment. */
  apiKey: { variable: string; value: string };
  /** A directory of this attempt's own for the CLI's configuration and sessions (created, empty). */
  home: string;
  /** A session id the caller chose (a UUID), for CLIs that take one; the parser reports the CLI's own otherwise. */
  sessionId: string;
  /** Extra arguments from the role's `args`, after fileswarm's own. */
  extraArgs: readonly string[];
  /** Variables passed through: PATH, the role's `env` and the task's, already resolved. */
  passEnv: Readonly<Record<string, string>>;
}

/** How to start the CLI. */
export interface CliInvocation {
  /** The executable. */
  file: string;
  args: string[];
  /** The CLI's whole environment. */
  env: Record<string, string>;
  /** Files to write before it starts, by absolute path (e.g. Gemini's `$HOME/.gemini/settings.json`). */
  files: Record<string, string>;
}
