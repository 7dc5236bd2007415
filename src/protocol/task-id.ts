// The task id pattern, shared by swarm.yaml's schema and the protocol's.

/**
 * Task ids become paths in the run directory (tasks/<id>/), parts of git refs
 * (refs/swarm/<run>/<id>/<n>) and worktree names (<id>-<n>), so they are slugs: 1-64 characters
 * of a-z, 0-9, "_" and "-", starting with a letter or digit. No `/`, no `.` (so no `..` and no
 * `.lock`), nothing git forbids in a ref, and no upper case: two ids that differ only in case
 * would be one directory on a case-insensitive file system (macOS, Windows).
 */
export const TASK_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** What the pattern means, for messages and the JSON Schema. */
export const TASK_ID_RULE = '1-64 characters of a-z, 0-9, "_" and "-", starting with a letter or digit';

/**
 * Why `id` is not a task id, for the user: the rule, and for an id that would be one in lower case
 * (`Build`, `L0n0`, `AUTH_API`) the lower-case id to use instead.
 */
export function taskIdProblem(id: string): string {
  const lower = id.toLowerCase();
  if (lower !== id && TASK_ID_PATTERN.test(lower))
    return `task ids are lower case (so that two ids cannot name one directory on a case-insensitive file system): use "${lower}"`;
  return `a task id is ${TASK_ID_RULE}`;
}
