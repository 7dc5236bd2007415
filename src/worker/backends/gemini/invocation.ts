// How the `gemini` backend starts Gemini CLI (`@google/gemini-cli` 0.61.0) for one attempt: headless,
// stream-json on stdout, every tool approved, a configuration home of the attempt's own, and an
// environment built from nothing. Facts measured on 0.61.0 against test/fixtures/fake-gemini.ts.
import fs from 'node:fs';
import path from 'node:path';
import type { CliInvocation, CliInvocationInput } from '../cli/invocation.js';

/**
 * Requests of one model turn Gemini CLI makes before it gives up on a 429, a 5xx or a dropped
 * connection (its `general.maxAttempts`, default 10, with backoff from 5 s doubling to 30 s: minutes
 * of silence). 3 keeps a transient error survivable within seconds; fileswarm's own attempt retries
 * do the rest. 400, 401 and 403 are never retried.
 */
export const GEMINI_MAX_ATTEMPTS = 3;

/** Options of {@link geminiSettings}. */
export interface GeminiSettingsOptions {
  /** `model.maxSessionTurns`: model turns allowed; null: unlimited (-1). */
  maxTurns: number | null;
  /** `general.maxAttempts` (1 to 10): requests per model turn, retries included. Default {@link GEMINI_MAX_ATTEMPTS}. */
  maxAttempts?: number;
}

/**
 * The user settings (`$HOME/.gemini/settings.json`) fileswarm gives Gemini CLI 0.61.0, as an object
 * (key names from its settings schema, bundle/docs/reference/configuration.md):
 * - `security.auth.selectedType: 'gemini-api-key'`: the Gemini API with `GEMINI_API_KEY`; without it a
 *   headless run has no auth method and exits 41.
 * - `model.maxSessionTurns`: its turn limit. A run that would start turn N+1 exits 53 with a final
 *   `result{status:'error', error:{type:'FatalTurnLimitedError'}}`. Counted per turn of its loop (one
 *   main model request each, its retries not counted).
 * - `general.maxAttempts`: see {@link GEMINI_MAX_ATTEMPTS}.
 * - `privacy.usageStatisticsEnabled: false` (else it logs usage to Google and sends an
 *   `x-gemini-api-privileged-user-id` header), `telemetry.enabled: false`,
 *   `general.enableAutoUpdate` / `enableAutoUpdateNotification: false` (no update check or self-update).
 * - `advanced.ignoreLocalEnv: true`: it does not load a `.env` file of the workspace or a directory
 *   above it (it walks up to `/` for the first one and takes the variables the environment lacks;
 *   measured: a workspace `.env` with `GEMINI_SYSTEM_MD=/missing` makes it exit 1 at startup, with this
 *   setting it runs). A `.gemini/.env` in the workspace or above is still loaded (no switch in 0.61.0).
 * - `model.disableLoopDetection: true`: its loop detector (from its code) ends a looping run with
 *   `result{status:'success'}` (a stop fileswarm would read as a finished task) and, from turn 30 on, asks
 *   a model every 10 turns in side requests of its own; fileswarm's caps and timeouts bound a looping
 *   attempt instead.
 * - `tools.disableLLMCorrection: true` (0.61.0's default, pinned): a `replace` whose old_string does not
 *   match fails instead of making side requests to repair the edit.
 * - `general.checkpointing.enabled: false`, `ide.enabled: false`, `general.sessionRetention.enabled: false`:
 *   no shadow git repository, no IDE connection, no cleanup of old sessions (the home is the attempt's).
 */
export function geminiSettings(opts: GeminiSettingsOptions): Record<string, unknown> {
  return {
    security: { auth: { selectedType: 'gemini-api-key' } },
    model: {
      maxSessionTurns: opts.maxTurns ?? -1,
      disableLoopDetection: true,
    },
    general: {
      maxAttempts: opts.maxAttempts ?? GEMINI_MAX_ATTEMPTS,
      enableAutoUpdate: false,
      enableAutoUpdateNotification: false,
      checkpointing: { enabled: false },
      sessionRetention: { enabled: false },
    },
    privacy: { usageStatisticsEnabled: false },
    telemetry: { enabled: false },
    ide: { enabled: false },
    tools: { disableLLMCorrection: true },
    advanced: { ignoreLocalEnv: true },
  };
}

/** The attempt's HOME for Gemini CLI: a directory inside the attempt's own configuration directory. */
export function geminiHome(input: Pick<CliInvocationInput, 'home'>): string {
  return path.join(input.home, 'home');
}

/**
 * How to start Gemini CLI 0.61.0 for one attempt:
 * `gemini -p <prompt> -o stream-json --approval-mode yolo --skip-trust --session-id <uuid> -m <model>
 * ...extraArgs`, stdin closed by the caller.
 * - `-p`: headless (one prompt, then exit). `@path` words in the prompt are replaced by the files'
 *   contents (measured: `look at @notes.txt` sends the file inline); a prompt beginning with `/` is first
 *   tried as a slash command (from its code).
 * - `-o stream-json`: one JSON event per line (init, message, tool_use, tool_result, error, result);
 *   parsed by {@link ../gemini/stream.ts GeminiStream}.
 * - `--approval-mode yolo`: every tool call approved (read_file, list_directory, glob, grep_search,
 *   replace, write_file, run_shell_command, web_fetch, ...). Measured without it: headless, the model is
 *   not even offered run_shell_command, replace or write_file, and a call to one fails "Tool not found".
 * - `--skip-trust`: 0.61.0 has folder trust on by default; headless in an untrusted folder it exits 55
 *   ("Gemini CLI is not running in a trusted directory"), and untrusted it would also turn yolo back
 *   into `default`.
 * - `--session-id`: the caller's UUID becomes the session's id (measured: `init.session_id` is it, and
 *   the chat recording is named `session-<time>-<its first 8 characters>.jsonl`); `--resume <id>` would
 *   continue it.
 * - No `--sandbox`: its sandbox (docker/podman/sandbox-exec) is off by default; the worktree is the isolation.
 * - Budget: Gemini CLI has no USD or token cap of its own (`maxCostUsd` is not passed); fileswarm must
 *   enforce caps from the usage it reads. Turn limit: `model.maxSessionTurns` in the settings.
 * - Instructions: `$HOME/.gemini/GEMINI.md`, its global context file. Measured: its text goes into the
 *   request's system instruction (in `<loaded_context>`, after the whole built-in prompt, which stays);
 *   a GEMINI.md of the workspace goes into the first user message (`<project_context>`) instead.
 *   `GEMINI_SYSTEM_MD` is not used: it replaces the whole built-in system prompt, tool rules included.
 *   Writing a GEMINI.md into the worktree is not an option (it would be committed).
 *
 * Environment, built from nothing: `input.passEnv`, then `HOME` and `GEMINI_CLI_HOME` (its user
 * directory; the latter wins over HOME in 0.61.0, so it must not come from the worker's environment),
 * `GEMINI_API_KEY` (the key whatever variable the role names), `GOOGLE_GEMINI_BASE_URL` when a base URL
 * is given (plain http is accepted only for localhost / 127.0.0.1 / [::1]), and
 * `GEMINI_CLI_NO_RELAUNCH=true`: without it the `gemini` process starts a second node process running
 * the CLI (with `--max-old-space-size` = half the machine's memory) and itself ignores SIGTERM, SIGINT and
 * SIGHUP; measured: one node process instead of two, about 0.6 s less to start.
 *
 * Also measured, for whoever stops it: `run_shell_command` runs each command in a session and process
 * group of its own (a pty), so a SIGKILL to the CLI's process group leaves a running command (and what it
 * started) alive, reparented to init; a SIGTERM makes the CLI exit 0 without a `result` line, the command
 * still running. And it writes into `os.tmpdir()`: `gemini-shell-*` directories per command, and on an API
 * error `gemini-client-error-*.json` (the error and the request's contents, mode 0644): pass a `TMPDIR` of
 * the attempt's own to keep them out of /tmp.
 */
export function geminiInvocation(input: CliInvocationInput): CliInvocation {
  const home = geminiHome(input);
  const files: Record<string, string> = {
    [path.join(home, '.gemini', 'settings.json')]:
      `${JSON.stringify(geminiSettings({ maxTurns: input.maxTurns }), null, 2)}\n`,
  };
  if (input.instructions !== null && input.instructions.trim() !== '') {
    files[path.join(home, '.gemini', 'GEMINI.md')] = `${input.instructions.trimEnd()}\n`;
  }
  const env: Record<string, string> = {
    ...input.passEnv,
    HOME: home,
    GEMINI_CLI_HOME: home,
    GEMINI_API_KEY: input.apiKey.value,
    GEMINI_CLI_NO_RELAUNCH: 'true',
  };
  if (input.baseUrl !== null) env.GOOGLE_GEMINI_BASE_URL = input.baseUrl;
  return {
    file: input.command,
    args: [
      '-p',
      input.prompt,
      '-o',
      'stream-json',
      '--approval-mode',
      'yolo',
      '--skip-trust',
      '--session-id',
      input.sessionId,
      '-m',
      input.model,
      ...input.extraArgs,
    ],
    env,
    files,
  };
}

/**
 * Gemini CLI's chat recordings in an attempt's home, absolute paths, sorted: 0.61.0 appends each
 * session's messages to `$HOME/.gemini/tmp/<project>/chats/session-<time>-<session id prefix>.jsonl`
 * as it goes, a model turn's usage included, before that turn's tools run (measured; see
 * {@link ../gemini/stream.ts GeminiStream.pushChatRecord}). `<project>` is named after the workspace
 * directory. The session of an agent it delegates to (its `invoke_agent` tool) goes to
 * `chats/<parent session id>/<id>.jsonl` (from its code, not measured): listed too, since its requests
 * are spent by the attempt. [] before the CLI has written any.
 */
export function geminiChatFiles(input: Pick<CliInvocationInput, 'home'>): string[] {
  const tmp = path.join(geminiHome(input), '.gemini', 'tmp');
  const out: string[] = [];
  const list = (dir: string): fs.Dirent[] => {
    try {
      return fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return [];
    }
  };
  for (const project of list(tmp)) {
    if (!project.isDirectory()) continue;
    const chats = path.join(tmp, project.name, 'chats');
    for (const entry of list(chats)) {
      if (entry.isFile() && /^session-.*\.jsonl$/.test(entry.name)) out.push(path.join(chats, entry.name));
      if (!entry.isDirectory()) continue;
      for (const sub of list(path.join(chats, entry.name))) {
        if (sub.isFile() && sub.name.endsWith('.jsonl')) out.push(path.join(chats, entry.name, sub.name));
      }
    }
  }
  return out.sort();
}
