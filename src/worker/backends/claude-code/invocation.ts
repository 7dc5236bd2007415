// How the `claude-code` backend starts Claude Code (`@anthropic-ai/claude-code` 2.1.330) for one
// attempt: headless (`-p`) with stream-json on stdout, the session id fileswarm chose, its own turn
// and budget limits from the attempt's caps, edits and the listed tools allowed without asking, a
// configuration home of the attempt's own, and an environment built from nothing.
import path from 'node:path';
import type { CliInvocation, CliInvocationInput } from '../cli/invocation.js';

/**
 * The tools an attempt may use without asking (a headless run denies a tool that would need
 * permission). Claude Code 2.1.330's names: shell, file reads and edits, search.
 */
export const CLAUDE_CODE_TOOLS = ['Bash', 'Read', 'Edit', 'Write', 'Glob', 'Grep', 'NotebookEdit', 'TodoWrite'];

/**
 * Retries of a failed model request. Claude Code 2.1.330 retries 10 times by default, with
 * exponential backoff (0.6 s doubling: minutes of silence), also for a 401; fileswarm's own retries
 * of the attempt do the rest, as for the built-in agent (4 retries).
 */
export const CLAUDE_CODE_RETRIES = 4;

/**
 * argv, environment and files of a Claude Code attempt. Flags (measured on 2.1.330):
 * - `-p <prompt> --output-format stream-json --verbose`: one JSON event per line (`--verbose` is
 *   required with stream-json in `-p` mode, else it exits 1). `--include-partial-messages` adds the
 *   API's raw stream events: their `message_delta` carries each response's final output tokens, which
 *   the `assistant` lines do not (they show the count as streamed so far, often 1), so usage is
 *   exact after each request.
 * - `--session-id <uuid>`: the caller's id, so the session is known before the first line.
 * - `--max-turns N` (hidden from `--help`, but honoured: `result` subtype `error_max_turns`, exit 1)
 *   and `--max-budget-usd X` (`error_max_budget_usd`, exit 1), from the attempt's caps. Its cost is
 *   computed with its own price table; fileswarm also watches the stream and stops it at a cap.
 * - `--permission-mode acceptEdits` with `--allowedTools`: edits and the listed tools run without
 *   asking. (`bypassPermissions` refuses to run as root unless IS_SANDBOX=1.)
 * - `--append-system-prompt`: fileswarm's rules after Claude Code's own system prompt.
 * - `--strict-mcp-config`: no MCP servers but those given (none).
 * Environment: `CLAUDE_CONFIG_DIR` and `HOME` inside `input.home` (its sessions and settings are
 * the attempt's own, the user's are neither read nor changed), the key as `ANTHROPIC_API_KEY`, the
 * base URL as `ANTHROPIC_BASE_URL` (no `/v1`), and `CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1`
 * (no update checks or telemetry: one HTTP request per model turn), `DISABLE_AUTOUPDATER=1`, and
 * `CLAUDE_CODE_MAX_RETRIES` (see {@link CLAUDE_CODE_RETRIES}; the role's `env` may override it).
 */
export function claudeCodeInvocation(input: CliInvocationInput): CliInvocation {
  const args = ['-p', input.prompt, '--output-format', 'stream-json', '--verbose', '--include-partial-messages'];
  args.push('--session-id', input.sessionId, '--model', input.model);
  if (input.maxTurns !== null) args.push('--max-turns', String(input.maxTurns));
  if (input.maxCostUsd !== null) args.push('--max-budget-usd', String(input.maxCostUsd));
  args.push('--permission-mode', 'acceptEdits', '--allowedTools', CLAUDE_CODE_TOOLS.join(','));
  args.push('--strict-mcp-config');
  if (input.instructions) args.push('--append-system-prompt', input.instructions);
  args.push(...input.extraArgs);
  const env: Record<string, string> = {
    CLAUDE_CODE_MAX_RETRIES: String(CLAUDE_CODE_RETRIES),
    ...input.passEnv,
    HOME: input.home,
    CLAUDE_CONFIG_DIR: path.join(input.home, '.claude'),
    [`ANTHROPIC_API_KEY`]: input.apiKey.value,
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_AUTOUPDATER: '1',
  };
  if (input.baseUrl) env.ANTHROPIC_BASE_URL = input.baseUrl.replace(/\/v1\/?$/, '');
  return { file: input.command, args, env, files: {} };
}
