// How the `claude-code` backend starts Claude Code (`@anthropic-ai/claude-code` 2.1.330) for one attempt:
// print mode, stream-json on stdout with each model request's usage as it streams, file edits in its
// working directory and shell commands allowed without asking (also as root), no settings or CLAUDE.md
// from outside the worktree, a configuration home of the attempt's own, and an environment built from
// nothing. Facts measured on 2.1.330 against test/fixtures/fake-anthropic.ts.
import path from 'node:path';
import type { CliInvocation, CliInvocationInput } from '../cli/invocation.js';

/**
 * The built-in tools Claude Code offers the model (`--tools`): a coding agent's set. Measured: without
 * `--tools` 2.1.330 offers Agent, Workflow, Skill, ToolSearch, ScheduleWakeup, ListAgents, ReportFindings
 * and more (WebFetch, WebSearch, Cron*, Monitor deferred behind ToolSearch) but not Glob or Grep; the
 * first request's prompt is ≈88k characters instead of ≈54k. Subagents (Agent, Workflow) would spend
 * model requests whose usage stream-json does not show one by one, so they are left out.
 */
export const CLAUDE_CODE_TOOLS = ['Bash', 'Read', 'Edit', 'Write', 'Glob', 'Grep'] as const;

/**
 * The tools approved without asking (`--allowedTools`), on top of what `--permission-mode acceptEdits`
 * approves (Edit and Write inside the working directories). Edit and Write are not listed on purpose:
 * listed, they are approved anywhere (measured: a Write to `../outside.txt` succeeds); not listed, a write
 * outside the worktree is refused (`permission_denials` in the result, and the model is told). `Bash`
 * approves every command (the worktree is not a sandbox for the shell).
 */
export const CLAUDE_CODE_ALLOWED_TOOLS = ['Bash', 'Read', 'Glob', 'Grep'] as const;

/**
 * Retries of one model request Claude Code makes (`CLAUDE_CODE_MAX_RETRIES`). Its default is 10 with
 * backoff from ≈0.5 s doubling to ≈40 s, and it retries a 401 too (measured: ten `system/api_retry`
 * lines over about 2.5 minutes before it gives up on a wrong key). 2 keeps a transient error
 * survivable within ≈2 s; fileswarm's own attempt retries do the rest. A 400, 403 or 404, and a 5xx with
 * `x-should-retry: false`, are never retried. The role's `env` may set another value.
 */
export const CLAUDE_CODE_MAX_RETRIES = 2;

/**
 * Variables of `input.passEnv` that would give Claude Code another credential than the role's key
 * (measured: with `ANTHROPIC_AUTH_TOKEN` set it sends both `x-api-key` and `Authorization: Bearer`).
 */
const OTHER_CREDENTIALS = ['ANTHROPIC_AUTH_TOKEN', 'CLAUDE_CODE_OAUTH_TOKEN', 'ANTHROPIC_API_KEY'] as const;

/** The `.bashrc` of the attempt's HOME: Claude Code sources it into the shell its commands run in. */
const HOME_BASHRC = "# fileswarm: this attempt's own HOME; the worker user's shell configuration is not sourced.\n";

/** Where Claude Code keeps things for one attempt, inside `input.home`. */
export interface ClaudeCodeDirs {
  /** `CLAUDE_CONFIG_DIR`: its `.claude.json`, sessions (`projects/<cwd>/<session id>.jsonl`), shell snapshots. */
  config: string;
  /** `HOME` of the CLI and of the commands it runs (empty: no `.bashrc` of the worker's user is sourced). */
  home: string;
}

/** The attempt's directories for Claude Code: `<home>/claude` and `<home>/home`. */
export function claudeCodeDirs(input: Pick<CliInvocationInput, 'home'>): ClaudeCodeDirs {
  return { config: path.join(input.home, 'claude'), home: path.join(input.home, 'home') };
}

/**
 * How to start Claude Code 2.1.330 for one attempt:
 * `claude -p <prompt> --output-format stream-json --verbose --include-partial-messages --session-id <uuid>
 * --model <model> --permission-mode acceptEdits --tools Bash,Read,Edit,Write,Glob,Grep --allowedTools
 * Bash,Read,Glob,Grep --setting-sources user --add-dir . --strict-mcp-config [--max-turns N]
 * [--max-budget-usd X] [--append-system-prompt=<instructions>] ...extraArgs`, stdin closed by the caller,
 * cwd the worktree.
 * - `-p` (print mode: one prompt, then exit) takes no value: the prompt is the positional argument right
 *   after it. A prompt beginning with `-` is read as an option (exit 1, `error: unknown option`), so it
 *   goes after `--` instead (then at the very end, after extraArgs). A prompt beginning with `/` is run
 *   as a slash command (measured: `/help me` makes no model request and ends with success, 0 turns);
 *   `@path` words read the file into the first message.
 * - `--output-format stream-json --verbose`: one JSON event per line (without `--verbose` it exits 1).
 * - `--include-partial-messages`: adds `stream_event` lines with the raw SSE events. Measured: without it
 *   the `assistant` lines carry `message_start`'s usage (output_tokens 1) and a request's output tokens
 *   are known only from the final `result`; with it `message_delta` gives each request's output tokens
 *   as soon as the answer ends, before its tools run, so a cap is checked once per request.
 *   Parsed by {@link ../claude-code/stream.ts ClaudeCodeStream}.
 * - `--session-id`: the caller's UUID is the session's id (`system/init.session_id`); `--resume <id>`
 *   would continue it.
 * - `--permission-mode acceptEdits` with `--allowedTools` ({@link CLAUDE_CODE_ALLOWED_TOOLS}): runs every
 *   shell command and edits files of its working directory without asking, also as root, without
 *   `IS_SANDBOX`. Measured alternatives: `bypassPermissions` (or `--dangerously-skip-permissions`) exits 1
 *   as root ("cannot be used with root/sudo privileges") unless `IS_SANDBOX=1`, and then writes anywhere;
 *   `dontAsk` with Edit and Write in `--allowedTools` approves them outside the worktree too; `auto` falls
 *   back to `default` (not opted in), which refused a `touch` command and every write.
 * - `--tools`: see {@link CLAUDE_CODE_TOOLS}.
 * - `--setting-sources user --add-dir .` with `CLAUDE_CODE_ADDITIONAL_DIRECTORIES_CLAUDE_MD=1`: the only
 *   settings and CLAUDE.md it reads are those of its own `CLAUDE_CONFIG_DIR` (the attempt's, empty) and
 *   the worktree's CLAUDE.md. Measured by default: it reads CLAUDE.md (or, with none, AGENTS.md) of the
 *   working directory and of every directory above it (a worktree under `<repo>/.swarm/worktrees/` would
 *   get the main checkout's and its parents'), and the worktree's `.claude/settings.json` (its hooks and
 *   permission rules; a parent's is not read). `--bare` would read none, but it also swaps in a minimal
 *   agent: a two-line system prompt and only Bash, Edit and Read, whatever `--tools` says. An AGENTS.md of
 *   the worktree is not read this way. `~/.claude/` of the worker's user is never read when
 *   `CLAUDE_CONFIG_DIR` is set.
 * - `--strict-mcp-config`: no MCP servers but those of `--mcp-config` (none).
 * - `--max-turns N` (hidden from `--help`): the CLI's own turn limit. Measured with N = 2: 2 model
 *   requests, the second turn's tools run, then a final `result{subtype:'error_max_turns', num_turns: 3,
 *   errors:['Reached maximum number of turns (2)']}` and exit 1. 0 means no limit (measured: it kept
 *   going), so a limit under 1 is not passed.
 * - `--max-budget-usd X` (must be > 0, else exit 1 at startup): its own USD limit, priced with its own
 *   table. Checked after each model answer: the answer that reaches X is the last, its tool calls are not
 *   run, `result{subtype:'error_max_budget_usd', errors:['Reached maximum budget ($X)']}`, exit 1.
 * - `--append-system-prompt=<instructions>`: they go at the end of its system prompt (which stays whole).
 *   Its CLAUDE_CONFIG_DIR/CLAUDE.md would work too, as a user memory in the first message instead.
 * - No `--bare`, no `--dangerously-skip-permissions`, no `--no-session-persistence` (the session file in
 *   the attempt's config home allows `--resume`).
 *
 * Environment, built from nothing: `CLAUDE_CODE_MAX_RETRIES` ({@link CLAUDE_CODE_MAX_RETRIES}, which
 * `input.passEnv` may override), then `input.passEnv` without other credentials (`ANTHROPIC_AUTH_TOKEN`,
 * `CLAUDE_CODE_OAUTH_TOKEN`), then `CLAUDE_CONFIG_DIR` (it creates it) and `HOME` ({@link claudeCodeDirs};
 * measured: Claude Code's shell sources `$HOME/.bashrc`, so the worker user's aliases and exports would
 * reach every command; the invocation writes an empty one, which also creates HOME), the key as
 * `ANTHROPIC_API_KEY` whatever variable the role names (sent as `x-api-key`), `ANTHROPIC_BASE_URL` when a
 * base URL is given (as given, like the `anthropic` backend's: without `/v1`, it calls
 * `POST <base>/v1/messages?beta=true`; one in `input.passEnv` stays when none is given),
 * `CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1` (its non-essential traffic off; measured: without it, it also
 * sends `GET <base>/api/hello` without the key; with it, every request to the base URL is a model request
 * of the conversation), `CLAUDE_CODE_ADDITIONAL_DIRECTORIES_CLAUDE_MD=1`.
 *
 * Also measured, for whoever stops it: it runs each shell command in a session and process group of its
 * own (`bash -c 'source <config>/shell-snapshots/...; eval <command>'`), so a SIGKILL to the CLI's group
 * leaves a running command alive; a SIGTERM to the CLI kills its command and makes it exit 143 without a
 * `result` line. The commands inherit its environment, `ANTHROPIC_API_KEY` included
 * (`CLAUDE_CODE_SUBPROCESS_ENV_SCRUB=1` would remove it but needs bubblewrap: without it the CLI exits 1
 * at startup). It writes into `$TMPDIR` (`claude-<uid>/`, `cc-socks/`) and its config home, nothing
 * into HOME.
 */
export function claudeCodeInvocation(input: CliInvocationInput): CliInvocation {
  const dirs = claudeCodeDirs(input);
  const passed: Record<string, string> = { ...input.passEnv };
  for (const name of OTHER_CREDENTIALS) delete passed[name];
  const env: Record<string, string> = {
    CLAUDE_CODE_MAX_RETRIES: String(CLAUDE_CODE_MAX_RETRIES),
    ...passed,
    CLAUDE_CONFIG_DIR: dirs.config,
    HOME: dirs.home,
    ANTHROPIC_API_KEY: input.apiKey.value,
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    CLAUDE_CODE_ADDITIONAL_DIRECTORIES_CLAUDE_MD: '1',
  };
  if (input.baseUrl !== null) env.ANTHROPIC_BASE_URL = input.baseUrl;

  const dashPrompt = input.prompt.startsWith('-');
  const args = [
    '-p',
    ...(dashPrompt ? [] : [input.prompt]),
    '--output-format',
    'stream-json',
    '--verbose',
    '--include-partial-messages',
    '--session-id',
    input.sessionId,
    '--model',
    input.model,
    '--permission-mode',
    'acceptEdits',
    '--tools',
    CLAUDE_CODE_TOOLS.join(','),
    '--allowedTools',
    CLAUDE_CODE_ALLOWED_TOOLS.join(','),
    '--setting-sources',
    'user',
    '--add-dir',
    '.',
    '--strict-mcp-config',
  ];
  if (input.maxTurns !== null && input.maxTurns >= 1) args.push('--max-turns', String(Math.floor(input.maxTurns)));
  if (input.maxCostUsd !== null && input.maxCostUsd > 0) args.push('--max-budget-usd', String(input.maxCostUsd));
  if (input.instructions !== null && input.instructions.trim() !== '') {
    // One argument with `=`: instructions beginning with `--` would otherwise be read as an option.
    args.push(`--append-system-prompt=${input.instructions}`);
  }
  args.push(...input.extraArgs);
  if (dashPrompt) args.push('--', input.prompt);
  // HOME must exist (it does not create it; commands would fail on `cd ~`): an empty shell configuration.
  return { file: input.command, args, env, files: { [path.join(dirs.home, '.bashrc')]: HOME_BASHRC } };
}
