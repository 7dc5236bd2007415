// The mark every process of an attempt carries in its environment, so the processes can be found
// and killed by it: by the coordinator when their worker is lost, and by a worker when an agent
// CLI started commands in process groups of their own.

/**
 * Environment variable that marks every process of an attempt with `<run-id>/<task>/<n>` (set in
 * assignment.json `env`, inherited by whatever the attempt starts unless it clears its environment).
 */
export const ATTEMPT_MARKER = 'SWARM_ATTEMPT_KEY';

/** The marker's value for an attempt: `<run-id>/<task>/<n>`. */
export const attemptKey = (run: string, task: string, attempt: number): string => `${run}/${task}/${attempt}`;
