// What an agent CLI's stream parser gives the CLI backends: the contract every CLI's `stream.ts`
// (Claude Code's stream-json, Codex's `exec --json`, Gemini's `-o stream-json`) implements, and the
// wording it shares with the built-in agent, so every reader shows a CLI's work as it shows the
// built-in agent's.
import type { Usage } from '../../../protocol/schemas.js';
import { ZERO_USAGE } from '../../../protocol/usage.js';
import { isPlainObject } from '../../../util/plain-object.js';
import type { AgentProgress, AttemptEvent } from '../backend.js';

/** Where a parser sends what it reads: the attempt's events.jsonl and status.json. */
export interface CliStreamSink {
  /** A normalized event (message, tool_call, tool_result, usage, error, log), as the built-in agent emits them. */
  emit(event: AttemptEvent): void;
  /** Progress for status.json: turn, what it is doing now (`Bash npm test`), usage so far. */
  progress(p: AgentProgress): void;
}

/**
 * How the CLI says the attempt ended, from its final event (Claude Code's `result`, Codex's
 * `turn.completed` / `turn.failed`, Gemini's `result`):
 * - `success`: it finished; `summary` is its last answer.
 * - `max-turns` / `budget`: its own turn or budget limit stopped it.
 * - `error`: an API, auth or internal error it gave up on; `message` says which.
 */
export type CliEnd =
  | { kind: 'success'; summary: string }
  | { kind: 'max-turns'; message: string }
  | { kind: 'budget'; message: string }
  | { kind: 'error'; message: string };

/** What a parser has read so far. */
export interface CliStreamState {
  /** Model requests (turns) so far. */
  turns: number;
  /**
   * Usage so far, tokens and USD. USD is the CLI's own figure where it reports one (Claude Code),
   * else the tokens priced with the role's price.
   */
  usage: Usage;
  /** The CLI's session or thread id, once seen (goes into result.json). */
  sessionId: string | null;
  /** The last text the model wrote (the summary if the CLI gives none). */
  lastText: string | null;
  /** The final event's verdict, once seen; null if the stream ended without one (a crash). */
  end: CliEnd | null;
  /** Error messages the CLI reported on the way (API errors, retries), oldest first. */
  errors: string[];
  /**
   * An error the CLI keeps retrying though it cannot succeed (an authentication failure: Claude Code
   * retries a 401 ten times with backoff). Once set, the runner stops the CLI and the attempt fails
   * `api-error` with this message. Absent or null: none.
   */
  fatal?: string | null;
}

/** A parser of one attempt's CLI output. */
export interface CliStream {
  /**
   * Reads one line of the CLI's stdout (without its newline). Never throws: a line that is not
   * JSON becomes a `log` event, an event type it does not know is ignored.
   */
  push(line: string): void;
  readonly state: CliStreamState;
}

/** A parser's state before its first line. */
export function initialStreamState(): CliStreamState {
  return { turns: 0, usage: { ...ZERO_USAGE }, sessionId: null, lastText: null, end: null, errors: [] };
}

/**
 * What every parser does with a line of stdout before it reads the event: a blank line is
 * skipped; a line that is not a JSON object becomes a `log` event (clipped to 2000 characters); an
 * event `read` throws on (a shape the parser did not expect) becomes a `log` event too, so a line
 * never stops the attempt's reader.
 * @param what the stream's name for that message (`stream-json`, `codex event`)
 */
export function readStreamLine(
  line: string,
  sink: CliStreamSink,
  what: string,
  read: (event: Record<string, unknown>) => void,
): void {
  if (line.trim() === '') return;
  let ev: unknown;
  try {
    ev = JSON.parse(line);
  } catch {
    ev = undefined;
  }
  if (!isPlainObject(ev)) {
    sink.emit({ type: 'log', text: clipLine(line, 2000) });
    return;
  }
  try {
    read(ev);
  } catch (err) {
    sink.emit({ type: 'log', text: `unreadable ${what} line (${String(err)}): ${clipLine(line, 500)}` });
  }
}

/** `s` cut to `n` characters, with an ellipsis if cut. */
export const short = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n)}…` : s);

/** `s` on one line (whitespace runs become one space), cut to `n` characters. */
export const clipLine = (s: string, n = 160): string => short(s.replace(/\s+/g, ' ').trim(), n);

/** A tool call's input with long strings cut to 300 characters, for events (events.jsonl is not a transcript). */
export function briefInput(input: unknown): unknown {
  if (!input || typeof input !== 'object' || Array.isArray(input)) return input;
  return Object.fromEntries(
    Object.entries(input as Record<string, unknown>).map(([k, v]) => [k, typeof v === 'string' ? short(v, 300) : v]),
  );
}

/**
 * One line saying what a tool call does (`Bash npm test`, `Read src/a.ts`), for status.json's
 * activity and the tool_call event's text: the tool's name and its first path, command, pattern or
 * query argument.
 */
export function activityOf(name: string, input: unknown): string {
  const a = (input && typeof input === 'object' ? input : {}) as Record<string, unknown>;
  const arg =
    a.file_path ?? a.path ?? a.absolute_path ?? a.command ?? a.cmd ?? a.pattern ?? a.query ?? a.url ?? a.summary ?? '';
  return clipLine(`${name} ${typeof arg === 'string' ? arg : JSON.stringify(arg)}`);
}
