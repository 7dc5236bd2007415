// Turns zod validation issues into located input issues, with "did you mean" for unknown keys.
import { closest, distance } from 'fastest-levenshtein';
import type { z } from 'zod';
import type { FieldPath, InputIssue, SourceDocument } from './source.js';

/** Suggests the known name nearest to `name`, if it is close enough to be a likely typo. */
export function suggest(name: string, known: readonly string[]): string | undefined {
  if (known.length === 0) return undefined;
  const best = closest(name, known as string[]);
  return distance(name, best) <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined;
}

/** Maps zod issues of `doc`'s data to input issues. `schema` is used to list known keys. */
export function zodIssues(
  doc: SourceDocument,
  schema: z.ZodType,
  issues: readonly z.core.$ZodIssue[],
  prefix: FieldPath = [],
): InputIssue[] {
  const data = doc.toJS();
  const out: InputIssue[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeysAt(schema, path);
      for (const key of issue.keys) {
        const near = suggest(key, known);
        const hint = near ? ` (did you mean "${near}"?)` : known.length ? ` (known keys: ${known.join(', ')})` : '';
        out.push(doc.issue(path, `unknown key "${key}"${hint}`, key));
      }
    } else if (issue.code === 'invalid_union') {
      // Report the branch that got furthest (most specific path), not "invalid input".
      const branches = issue.errors.filter((b) => b.length > 0);
      const best = branches.sort((a, b) => depth(b) - depth(a))[0];
      if (best) out.push(...zodIssues(doc, schema, best, path));
      else out.push(doc.issue(path, issue.message));
    } else {
      out.push(doc.issue(path, describe(issue, isMissing(data, path))));
    }
  }
  return out;
}

const depth = (issues: readonly z.core.$ZodIssue[]): number => Math.max(...issues.map((i) => i.path.length));

/** True if the data has nothing at `path` (a required field that is absent). */
function isMissing(data: unknown, path: FieldPath): boolean {
  let at: unknown = data;
  for (const key of path) {
    if (at === null || typeof at !== 'object') return true;
    at = (at as Record<string | number, unknown>)[key as string | number];
  }
  return at === undefined;
}

function describe(issue: z.core.$ZodIssue, missing: boolean): string {
  const expected =
    issue.code === 'invalid_type'
      ? issue.expected
      : issue.code === 'invalid_value' && issue.values.length > 0
        ? `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`
        : undefined;
  if (missing) return `required field is missing${expected ? ` (expected ${expected})` : ''}`;
  if (issue.code === 'invalid_value' && expected) return `expected ${expected}`;
  return issue.message;
}

/** Keys that the object schema at `path` accepts (empty if it is not an object). */
export function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let node: z.core.$ZodType | undefined = unwrap(schema as unknown as z.core.$ZodType);
  for (const key of path) {
    if (!node) return [];
    node = branchFor(node, typeof key === 'number' ? 'array' : 'object');
    const def = node?._zod.def as unknown as (Record<string, unknown> & { type: string }) | undefined;
    if (def?.type === 'object') node = (def.shape as Record<string, z.core.$ZodType>)[String(key)];
    else if (def?.type === 'array') node = def.element as z.core.$ZodType;
    else if (def?.type === 'record') node = def.valueType as z.core.$ZodType;
    else return [];
    node = node && unwrap(node);
  }
  if (node) node = branchFor(node, 'object');
  const def = node?._zod.def as unknown as { type: string; shape?: Record<string, unknown> } | undefined;
  return def?.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}

/** For a union, the option of the given kind (object or array); other schemas as they are. */
function branchFor(node: z.core.$ZodType, kind: 'object' | 'array'): z.core.$ZodType | undefined {
  if (node._zod.def.type !== 'union') return node;
  const options = (node._zod.def as unknown as { options: z.core.$ZodType[] }).options.map(unwrap);
  return options.find((o) => o._zod.def.type === kind) ?? options.find((o) => o._zod.def.type === 'record');
}

function unwrap(node: z.core.$ZodType): z.core.$ZodType {
  for (;;) {
    const def = node._zod.def as unknown as { type: string; innerType?: z.core.$ZodType; in?: z.core.$ZodType };
    if (def.innerType) node = def.innerType;
    else if (def.type === 'pipe' && def.in) node = def.in;
    else return node;
  }
}
