// The built-in agent's tools: read_file, write_file, edit_file, list_files, search, bash, finish.
// Input schemas are zod, turned into the JSON Schemas the model sees. Every tool's failure is a
// result for the model (is_error), never an exception: the agent reads it and tries again.
import fs from 'node:fs';
import path from 'node:path';
import { globby } from 'globby';
import { z } from 'zod';
import type { Sandbox } from '../sandbox/sandbox.js';
import { runShell } from '../shell.js';
import { display, resolveInside } from './workspace.js';

/** Tool outputs longer than this are cut to their head and tail, with a note (characters). */
export const MAX_TOOL_OUTPUT_CHARS = 20_000;
/** `list_files` and `search` return at most this many entries. */
const MAX_ENTRIES = 500;
/** `read_file` reads files up to this size (bytes). */
const MAX_READ_BYTES = 2_000_000;

const Path = z.string().describe('Path relative to the workspace root.');

/** Input schemas of the tools, by name. */
export const TOOL_INPUTS = {
  read_file: z.object({
    path: Path,
    offset: z.number().int().min(1).optional().describe('First line to read (1-based).'),
    limit: z.number().int().min(1).optional().describe('Number of lines to read.'),
  }),
  write_file: z.object({ path: Path, content: z.string().describe('The whole new content of the file.') }),
  edit_file: z.object({
    path: Path,
    old_text: z.string().min(1).describe('Exact text to replace; must occur exactly once in the file.'),
    new_text: z.string().describe('Replacement text.'),
  }),
  list_files: z.object({
    pattern: z
      .string()
      .optional()
      .describe('Glob, e.g. "src/**/*.ts" (default "**/*"). Files ignored by .gitignore are left out.'),
  }),
  search: z.object({
    pattern: z.string().min(1).describe('JavaScript regular expression, matched against each line.'),
    glob: z.string().optional().describe('Only files matching this glob (default "**/*").'),
    ignore_case: z.boolean().optional(),
  }),
  bash: z.object({
    command: z.string().min(1).describe('Shell command, run with /bin/sh -c in the workspace root.'),
    timeout_ms: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe("Time limit in ms (default and maximum: the role's bash_timeout)."),
  }),
  finish: z.object({
    summary: z.string().min(1).describe('What you did, for the people and tasks that depend on this one.'),
  }),
} as const;

/** A tool name. */
export type ToolName = keyof typeof TOOL_INPUTS;

const DESCRIPTIONS: Record<ToolName, string> = {
  read_file: 'Read a text file of the workspace. Lines are numbered ("  12\\t..."); use offset/limit for long files.',
  write_file: 'Create or overwrite a file of the workspace with the given content (parent directories are created).',
  edit_file:
    'Replace one exact occurrence of old_text with new_text in a file. Fails if old_text is missing or occurs more than once: then include more surrounding lines.',
  list_files: 'List files of the workspace matching a glob, respecting .gitignore.',
  search:
    'Search files of the workspace (respecting .gitignore) for lines matching a regular expression. Returns path:line: text.',
  bash: 'Run a shell command in the workspace root (e.g. tests, builds). Output (stdout and stderr) is returned, truncated if long.',
  finish:
    'Call when the task is done (and verified, if you can). The summary is shown to the user and to dependent tasks.',
};

/** A tool definition as the Messages API takes it. */
export interface ToolDefinition {
  name: ToolName;
  description: string;
  input_schema: { type: 'object'; [k: string]: unknown };
}

/** The definitions of every tool, in a fixed order (the prompt cache needs a stable prefix). */
export function toolDefinitions(): ToolDefinition[] {
  return (Object.keys(TOOL_INPUTS) as ToolName[]).map((name) => {
    const { $schema: _ignored, ...schema } = z.toJSONSchema(TOOL_INPUTS[name]) as Record<string, unknown>;
    return { name, description: DESCRIPTIONS[name], input_schema: { ...schema, type: 'object' } };
  });
}

/** What a tool call returns to the model. `finish` is set when the agent called finish. */
export interface ToolOutcome {
  output: string;
  is_error: boolean;
  finish?: string;
}

/** What the tools need: the workspace, and for bash its environment, limits and log file. */
export interface ToolContext {
  root: string;
  /** bash's environment (in a sandbox: the sandbox's). */
  env: Record<string, string | undefined>;
  /** Where bash runs its commands; null: on the host. */
  sandbox: Sandbox | null;
  bashTimeoutMs: number;
  killGraceMs: number;
  /** bash output is appended here, then read back. */
  bashLog: string;
  /** Aborted when the attempt must stop: a running bash command is killed. */
  signal: AbortSignal;
  onSpawn(pgid: number): void;
}

const fail = (output: string): ToolOutcome => ({ output, is_error: true });

/** Runs one tool call. Unknown tools and invalid inputs are errors for the model, with the reason. */
export async function runTool(name: string, input: unknown, ctx: ToolContext): Promise<ToolOutcome> {
  if (!(name in TOOL_INPUTS))
    return fail(`unknown tool "${name}"; the tools are ${Object.keys(TOOL_INPUTS).join(', ')}`);
  const parsed = TOOL_INPUTS[name as ToolName].safeParse(input);
  if (!parsed.success)
    return fail(
      `invalid input for ${name}: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; ')}`,
    );
  const args = parsed.data as Record<string, unknown>;
  switch (name as ToolName) {
    case 'read_file':
      return readFile(ctx.root, args as z.infer<typeof TOOL_INPUTS.read_file>);
    case 'write_file':
      return writeFile(ctx.root, args as z.infer<typeof TOOL_INPUTS.write_file>);
    case 'edit_file':
      return editFile(ctx.root, args as z.infer<typeof TOOL_INPUTS.edit_file>);
    case 'list_files':
      return listFiles(ctx.root, args as z.infer<typeof TOOL_INPUTS.list_files>);
    case 'search':
      return search(ctx.root, args as z.infer<typeof TOOL_INPUTS.search>);
    case 'bash':
      return bash(ctx, args as z.infer<typeof TOOL_INPUTS.bash>);
    case 'finish':
      return { output: 'finished', is_error: false, finish: (args as z.infer<typeof TOOL_INPUTS.finish>).summary };
  }
}

/** Cuts a long text to its head and tail with a note saying how much was left out. */
export function truncate(text: string, max = MAX_TOOL_OUTPUT_CHARS): string {
  if (text.length <= max) return text;
  const half = Math.floor(max / 2);
  return `${text.slice(0, half)}\n[... ${text.length - 2 * half} characters left out ...]\n${text.slice(-half)}`;
}

function readFile(root: string, a: z.infer<typeof TOOL_INPUTS.read_file>): ToolOutcome {
  const p = resolveInside(root, a.path);
  if (!p.ok) return fail(p.error);
  let stat;
  try {
    stat = fs.statSync(p.value);
  } catch {
    return fail(`${a.path}: no such file`);
  }
  if (stat.isDirectory()) return fail(`${a.path}: is a directory (use list_files)`);
  if (stat.size > MAX_READ_BYTES)
    return fail(`${a.path}: ${stat.size} bytes is too large to read (limit ${MAX_READ_BYTES}); use search or bash`);
  const lines = fs.readFileSync(p.value, 'utf8').split('\n');
  const from = (a.offset ?? 1) - 1;
  const to = a.limit ? from + a.limit : lines.length;
  if (from >= lines.length && lines.length > 0)
    return fail(`${a.path}: has ${lines.length} lines; offset ${a.offset} is past the end`);
  const body = lines
    .slice(from, to)
    .map((l, i) => `${String(from + i + 1).padStart(6)}\t${l}`)
    .join('\n');
  const more = to < lines.length ? `\n[${lines.length - to} more lines: read with offset ${to + 1}]` : '';
  return { output: truncate(body) + more, is_error: false };
}

function writeFile(root: string, a: z.infer<typeof TOOL_INPUTS.write_file>): ToolOutcome {
  const p = resolveInside(root, a.path);
  if (!p.ok) return fail(p.error);
  if (fs.existsSync(p.value) && fs.statSync(p.value).isDirectory()) return fail(`${a.path}: is a directory`);
  fs.mkdirSync(path.dirname(p.value), { recursive: true });
  const existed = fs.existsSync(p.value);
  fs.writeFileSync(p.value, a.content);
  const lines = a.content === '' ? 0 : a.content.split('\n').length - (a.content.endsWith('\n') ? 1 : 0);
  return {
    output: `${existed ? 'overwrote' : 'created'} ${display(root, p.value)} (${lines} line${lines === 1 ? '' : 's'})`,
    is_error: false,
  };
}

function editFile(root: string, a: z.infer<typeof TOOL_INPUTS.edit_file>): ToolOutcome {
  const p = resolveInside(root, a.path);
  if (!p.ok) return fail(p.error);
  let text: string;
  try {
    text = fs.readFileSync(p.value, 'utf8');
  } catch {
    return fail(`${a.path}: no such file (use write_file to create it)`);
  }
  const at: number[] = [];
  for (let i = text.indexOf(a.old_text); i !== -1; i = text.indexOf(a.old_text, i + 1)) at.push(i);
  if (at.length === 0)
    return fail(`${a.path}: old_text not found; read the file again and copy the exact text (whitespace included)`);
  if (at.length > 1) {
    const lines = at.map((i) => text.slice(0, i).split('\n').length);
    return fail(
      `${a.path}: old_text occurs ${at.length} times (lines ${lines.join(', ')}); include more surrounding text so it matches once`,
    );
  }
  fs.writeFileSync(p.value, text.slice(0, at[0]) + a.new_text + text.slice(at[0]! + a.old_text.length));
  return {
    output: `edited ${display(root, p.value)} at line ${text.slice(0, at[0]).split('\n').length}`,
    is_error: false,
  };
}

/** Files of the workspace matching `pattern`, relative, sorted; .gitignore'd files and .git left out. */
async function workspaceFiles(root: string, pattern: string): Promise<string[] | string> {
  if (pattern.split('/').includes('..') || path.isAbsolute(pattern)) return `glob "${pattern}" leaves the workspace`;
  const files = await globby(pattern, {
    cwd: root,
    gitignore: true,
    dot: true,
    ignore: ['.git/**', '**/.git/**', '**/node_modules/**'],
    followSymbolicLinks: false,
  });
  return files.sort();
}

async function listFiles(root: string, a: z.infer<typeof TOOL_INPUTS.list_files>): Promise<ToolOutcome> {
  const files = await workspaceFiles(root, a.pattern ?? '**/*');
  if (typeof files === 'string') return fail(files);
  if (files.length === 0) return { output: `no files match ${a.pattern ?? '**/*'}`, is_error: false };
  const more = files.length > MAX_ENTRIES ? `\n[${files.length - MAX_ENTRIES} more files: use a narrower pattern]` : '';
  return { output: files.slice(0, MAX_ENTRIES).join('\n') + more, is_error: false };
}

async function search(root: string, a: z.infer<typeof TOOL_INPUTS.search>): Promise<ToolOutcome> {
  let re: RegExp;
  try {
    re = new RegExp(a.pattern, a.ignore_case ? 'i' : '');
  } catch (e) {
    return fail(`invalid regular expression: ${(e as Error).message}`);
  }
  const files = await workspaceFiles(root, a.glob ?? '**/*');
  if (typeof files === 'string') return fail(files);
  const hits: string[] = [];
  let total = 0;
  for (const f of files) {
    let text: string;
    try {
      const buf = fs.readFileSync(path.join(root, f));
      if (buf.length > MAX_READ_BYTES || buf.includes(0)) continue; // large or binary
      text = buf.toString('utf8');
    } catch {
      continue;
    }
    text.split('\n').forEach((line, i) => {
      if (!re.test(line)) return;
      total++;
      if (hits.length < MAX_ENTRIES) hits.push(`${f}:${i + 1}: ${line.length > 300 ? `${line.slice(0, 300)}…` : line}`);
    });
  }
  if (total === 0) return { output: `no matches for /${a.pattern}/ in ${files.length} files`, is_error: false };
  const more = total > hits.length ? `\n[${total - hits.length} more matches: narrow the pattern or the glob]` : '';
  return { output: truncate(hits.join('\n')) + more, is_error: false };
}

async function bash(ctx: ToolContext, a: z.infer<typeof TOOL_INPUTS.bash>): Promise<ToolOutcome> {
  const limit = Math.min(a.timeout_ms ?? ctx.bashTimeoutMs, ctx.bashTimeoutMs);
  const timeout = AbortSignal.timeout(limit);
  const signal = AbortSignal.any([ctx.signal, timeout]);
  const start = fs.existsSync(ctx.bashLog) ? fs.statSync(ctx.bashLog).size : 0;
  fs.appendFileSync(ctx.bashLog, `$ ${a.command}\n`);
  const from = start + Buffer.byteLength(`$ ${a.command}\n`);
  const exit = await runShell({
    command: a.command,
    cwd: ctx.root,
    env: ctx.env,
    sandbox: ctx.sandbox,
    stdout: ctx.bashLog,
    stderr: ctx.bashLog,
    signal,
    killGraceMs: ctx.killGraceMs,
    onSpawn: ctx.onSpawn,
  });
  const size = fs.statSync(ctx.bashLog).size;
  const fd = fs.openSync(ctx.bashLog, 'r');
  const buf = Buffer.alloc(size - from);
  fs.readSync(fd, buf, 0, buf.length, from);
  fs.closeSync(fd);
  const output = truncate(buf.toString('utf8'));
  switch (exit.kind) {
    case 'exited':
      fs.appendFileSync(ctx.bashLog, `[exit ${exit.exitCode}]\n`);
      return {
        output: `${output}${output.endsWith('\n') || !output ? '' : '\n'}[exit code ${exit.exitCode}]`,
        is_error: exit.exitCode !== 0,
      };
    case 'signaled':
      return fail(`${output}\n[killed by ${exit.signal}]`);
    case 'aborted':
      if (ctx.signal.aborted) return fail(`${output}\n[stopped: the attempt is ending]`);
      return fail(`${output}\n[timed out after ${limit} ms; the command's processes were killed]`);
    case 'spawn-failed':
      return fail(`could not run the command: ${exit.message}`);
  }
}
