// What `POST /api/runs` starts a run from: a config (and optionally a plan) given as a path inside
// the server's repository, or as YAML inline, which the server keeps in a file of its own so that
// the `swarm run` it starts reads it like any other.
import fs from 'node:fs';
import path from 'node:path';
import type { InputIssue } from '../config/source.js';
import { err, ok, type Result } from '../util/result.js';

/** A config or plan as the request gave it, made a file `swarm run` can read. */
export interface InputFile {
  /** Absolute path of the file. */
  file: string;
  /** How issues name it: the relative path as given, or `config (inline)` / `plan (inline)`. */
  shown: string;
  /** True when the server wrote it (from inline YAML): deleted again if the run does not start. */
  inline: boolean;
}

/** Where the server keeps inline configs and plans: `<runsDir>/.inline/`. */
export function inlineDir(runsDir: string): string {
  return path.join(runsDir, '.inline');
}

/**
 * Makes `value` a file: text with a newline in it is YAML (a path never has one), written to
 * `<runsDir>/.inline/<id>.<what>.yaml`; anything else is a path relative to `repo` that must stay
 * inside it (no absolute path, no `..` out of it). The file need not exist: reading it is the
 * config check's job, which then names it.
 * @returns the file, or a message for a path outside the repository
 */
export function inputFile(
  value: string,
  what: 'config' | 'plan',
  server: { runsDir: string; repo: string },
  id: string,
): Result<InputFile, string> {
  if (value.includes('\n')) {
    const dir = inlineDir(server.runsDir);
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `${id}.${what}.yaml`);
    fs.writeFileSync(file, value);
    return ok({ file, shown: `${what} (inline)`, inline: true });
  }
  const file = path.resolve(server.repo, value);
  const inside = path.relative(server.repo, file);
  if (path.isAbsolute(value) || inside === '' || inside.startsWith('..') || path.isAbsolute(inside))
    return err(
      `\`${what}\` must be a path inside the repository ${server.repo} (or YAML text, with a newline), not ${value}`,
    );
  return ok({ file, shown: inside, inline: false });
}

/** Issues located in `files` renamed to how the request named them (`config (inline)`, the relative path). */
export function renameIssues(issues: InputIssue[], files: InputFile[]): InputIssue[] {
  return issues.map((i) => {
    const f = files.find((x) => x.file === i.file);
    return f ? { ...i, file: f.shown } : i;
  });
}

/** Deletes the files the server wrote for a run that did not start. */
export function discardInline(files: InputFile[]): void {
  for (const f of files) if (f.inline) fs.rmSync(f.file, { force: true });
}
