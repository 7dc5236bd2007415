// How the codex backend starts Codex (`@openai/codex`, measured with 0.169.0 on 2026-12-04 against a
// fake Responses API on 127.0.0.1): `codex exec --json`, sandboxed to the worktree, never asking for
// approval, with its own CODEX_HOME and TMPDIR inside the attempt's home, and settings in that home's
// config.toml.
import fs from 'node:fs';
import path from 'node:path';
import type { CliInvocation, CliInvocationInput } from '../cli/invocation.js';

/**
 * The id of the model provider fileswarm defines in `config.toml` when a role has a `base_url`. Tests
 * and roles can refine it with `-c model_providers.fileswarm.<key>=<value>` (e.g.
 * `request_max_retries=0` and `stream_max_retries=0`: with both, a failing request fails at once
 * instead of after 5 stream retries × 5 requests with backoff, 24.6 s for a 500 in 0.169.0).
 */
export const CODEX_PROVIDER_ID = 'fileswarm';

/**
 * The variable Codex 0.169.0's `exec` reads the API key from for its built-in OpenAI provider.
 * Measured: with only `OPENAI_API_KEY` set it sent no `Authorization` header at all.
 */
export const CODEX_KEY_VARIABLE = 'CODEX_API_KEY';

/**
 * The argv, environment and `config.toml` of one Codex attempt.
 *
 * argv (`codex exec` options of 0.169.0; `-c` keys checked with `--strict-config`):
 * - `exec --json`: non-interactive, one JSON event per stdout line (`--experimental-json` is an alias;
 *   there is no other machine-readable mode).
 * - `--skip-git-repo-check`: runs in any directory (a task's `cwd` below the worktree, a plain directory).
 * - `--sandbox workspace-write`: commands run in Codex's own Linux sandbox (its bundled bubblewrap plus
 *   seccomp; it works on these machines as root): the working directory, `/tmp` and `$TMPDIR` writable,
 *   `/` read-only (the worktree's `.git` too), no network (`sandbox_workspace_write.network_access`
 *   turns it on), own PID namespace, and `--die-with-parent`, so commands die with Codex even though
 *   they run in a session of their own. With `danger-full-access` or
 *   `--dangerously-bypass-approvals-and-sandbox` a command's processes survive SIGKILL of Codex's
 *   process group (measured), and the key is readable in `/proc`.
 * - `-m <model>`; then the role's `args`; then `--` and the prompt (an argument: Linux caps one
 *   argument at 128 KiB; with stdin closed Codex only prints `Reading additional input from stdin...`).
 *
 * config.toml in `CODEX_HOME` (Codex reads it at start; `-c` in the role's args overrides any key):
 * - `approval_policy = "never"` (exec's default, made explicit): a refused write or command goes back
 *   to the model as a failed tool result.
 * - `allow_login_shell = false`: commands run as `bash -c`, not `bash -lc`, whose /etc/profile
 *   replaced the PATH given (measured: `/opt/mybin` was gone from `$PATH`).
 * - `developer_instructions`: appended to Codex's system prompt as a second `developer` message
 *   (measured in the request body). An `AGENTS.md` in CODEX_HOME would arrive as a user message instead.
 * - `analytics.enabled = false`, `feedback.enabled = false`, `check_for_update_on_startup = false`.
 * - `shell_environment_policy.exclude = [<key variable>]`: commands inherit Codex's environment, the
 *   API key included, unless excluded (measured: it was visible to `env` without this).
 * - with a `baseUrl`: `model_provider = "fileswarm"` and `[model_providers.fileswarm]` with that
 *   `base_url`, `env_key` = the role's key variable and `wire_api = "responses"` (HTTP + SSE; a custom
 *   provider makes no WebSocket attempts). Without one, Codex's built-in `openai` provider (which
 *   `model_providers` may not redefine, so its 4 request and 5 stream retries stay) with the key in
 *   `CODEX_API_KEY`; it tries WebSockets first, then HTTPS.
 *
 * Environment: `input.passEnv`, then `CODEX_HOME` = `input.home`, `TMPDIR` = `<home>/tmp` (Codex puts
 * its helper links and its bubblewrap mount-point lock there; with TMPDIR under /tmp it refuses to
 * create the helper links and warns), `HOME` = `input.home` unless passEnv has one, and the key.
 * Without HOME, the commands' bash (which reads `~/.bashrc` even with `-c` here: Debian's bash does
 * when stdin is a socket, as Codex's is) took `~` from the password file and ran the real user's
 * `/root/.bashrc`. Codex still creates an empty `/tmp/codex-daemon-<uid>` (a fixed path in 0.169.0).
 *
 * Codex has no turn or USD limit of its own (0.169.0: no `max_turns` setting; `token_budget` and
 * `rollout_budget` are features "under development"): `maxTurns` and `maxCostUsd` are not passed;
 * fileswarm enforces them from the stream. Codex picks its own thread id: `sessionId` is not used.
 */
export function codexInvocation(input: CliInvocationInput): CliInvocation {
  const custom = input.baseUrl !== null;
  const keyVariable = custom ? input.apiKey.variable : CODEX_KEY_VARIABLE;
  const tmp = path.join(input.home, 'tmp');
  const env: Record<string, string> = {
    HOME: input.home,
    ...input.passEnv,
    CODEX_HOME: input.home,
    TMPDIR: tmp,
    [keyVariable]: input.apiKey.value,
  };
  const config = [
    `approval_policy = "never"`,
    `allow_login_shell = false`,
    `check_for_update_on_startup = false`,
    ...(input.instructions !== null ? [`developer_instructions = ${tomlString(input.instructions)}`] : []),
    ...(custom ? [`model_provider = ${tomlString(CODEX_PROVIDER_ID)}`] : []),
    '',
    '[analytics]',
    'enabled = false',
    '',
    '[feedback]',
    'enabled = false',
    '',
    '[shell_environment_policy]',
    `exclude = [${tomlString(keyVariable)}]`,
    ...(custom
      ? [
          '',
          `[model_providers.${CODEX_PROVIDER_ID}]`,
          `name = ${tomlString(CODEX_PROVIDER_ID)}`,
          `base_url = ${tomlString(input.baseUrl!)}`,
          `env_key = ${tomlString(keyVariable)}`,
          `wire_api = "responses"`,
        ]
      : []),
  ];
  return {
    file: input.command,
    args: [
      'exec',
      '--json',
      '--skip-git-repo-check',
      '--sandbox',
      'workspace-write',
      '-m',
      input.model,
      ...input.extraArgs,
      '--',
      input.prompt,
    ],
    env,
    files: {
      [path.join(input.home, 'config.toml')]: `${config.join('\n')}\n`,
      // TMPDIR must exist before Codex starts.
      [path.join(tmp, '.keep')]: '',
    },
  };
}

/**
 * `s` as a TOML basic string: JSON's escapes (which TOML shares for `"`, `\`, \b \t \n \f \r and
 * \uXXXX), plus DEL escaped and lone surrogates replaced by U+FFFD, which TOML does not allow raw or
 * escaped. A value Codex cannot parse as TOML would be taken as a raw string, quotes included.
 */
export function tomlString(s: string): string {
  const wellFormed = s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
  return JSON.stringify(wellFormed).replace(/\x7f/g, '\\u007f');
}

/**
 * Codex's session files (`$CODEX_HOME/sessions/YYYY/MM/DD/rollout-<time>-<thread id>.jsonl`): after
 * each model response it appends a `token_usage_record` line with that request's usage, the only
 * place 0.169.0 reveals usage before its last stdout line (give them to `CodexStream.pushRollout`).
 */
export function codexRolloutFiles(input: Pick<CliInvocationInput, 'home'>): string[] {
  const root = path.join(input.home, 'sessions');
  let entries: string[];
  try {
    entries = fs.readdirSync(root, { recursive: true }) as string[];
  } catch {
    return [];
  }
  return entries.filter((f) => /rollout-.*\.jsonl$/.test(f)).map((f) => path.join(root, f));
}
