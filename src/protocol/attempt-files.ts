// Reading back an attempt's files (tasks/<task>/<n>/): assignment.json, written by the coordinator;
// status.json and result.json, written by the worker. One reader, which says whether a file is
// there, and whether what is there can be read: a caller decides what an unreadable file means.
import type { z } from 'zod';
import { readJsonFile } from './files.js';
import type { RunPaths } from './paths.js';
import {
  AssignmentSchema,
  AttemptResultSchema,
  AttemptStatusSchema,
  type Assignment,
  type AttemptResult,
  type AttemptStatus,
} from './schemas.js';

/** What reading a file found. */
export type FileRead<T> =
  | { kind: 'ok'; value: T }
  /** The file does not exist (yet). */
  | { kind: 'missing' }
  /** It exists but cannot be read, is not JSON, or does not match its schema. */
  | { kind: 'unreadable'; error: Error };

function read<S extends z.ZodType>(file: string, schema: S): FileRead<z.output<S>> {
  try {
    const value = readJsonFile(file, schema);
    return value === undefined ? { kind: 'missing' } : { kind: 'ok', value };
  } catch (e) {
    return { kind: 'unreadable', error: e as Error };
  }
}

/** An attempt's result.json: its commit point, written once by the worker. */
export function readAttemptResult(paths: RunPaths, task: string, attempt: number): FileRead<AttemptResult> {
  return read(paths.attempt(task, attempt).result, AttemptResultSchema);
}

/** An attempt's status.json: where it runs (host, process group) and what it has spent so far. */
export function readAttemptStatus(paths: RunPaths, task: string, attempt: number): FileRead<AttemptStatus> {
  return read(paths.attempt(task, attempt).status, AttemptStatusSchema);
}

/** An attempt's assignment.json. */
export function readAssignment(paths: RunPaths, task: string, attempt: number): FileRead<Assignment> {
  return read(paths.attempt(task, attempt).assignment, AssignmentSchema);
}

/** The value read, or undefined for a file that is missing or unreadable alike. */
export function known<T>(read: FileRead<T>): T | undefined {
  return read.kind === 'ok' ? read.value : undefined;
}
