// The task id pattern, shared by swarm.yaml's schema and the protocol's.

/**
 * Task ids become paths in the run directory (tasks/<id>/) and parts of git refs and worktree
 * names, so they are slugs: 1-64 characters of a-z, 0-9 and "-", starting with a letter or digit
 * (no `/`, no `..`, no upper case).
 */
export const TASK_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,63}$/;
