// What an agent CLI is told: fileswarm's rules (added to the CLI's own system prompt) and the task
// (its prompt), built from the assignment as the built-in agent's is.
import type { Assignment } from '../../../protocol/schemas.js';
import { taskSystem } from '../../agent/prompt.js';

/** Added to the CLI's system prompt: how to work inside a swarm. The same for every task. */
export const CLI_RULES = `You are one of several coding agents working in parallel on a software project, each on its own task. You work alone in your own git worktree: the current directory. Your changes are committed and merged for you when you end.
- Keep to your task: no unrelated changes, no reformatting of files you do not otherwise change.
- Stay inside the current directory.
- Check your work (build, tests) when the project has them.
- Do not commit, push or switch branches: that is done for you.
- End with a short summary of what you changed, or of why the task cannot be done.`;

/**
 * The CLI's prompt: the task, the run's goal, what the dependencies did, the files, the verify
 * command, earlier attempts' failures and verify output, a conflict's diff and the role's
 * instructions (the built-in agent's task part, src/worker/agent/prompt.ts), then what to do.
 */
export function cliPrompt(a: Assignment): string {
  return `${taskSystem(a)}\n\nDo the task now: explore as needed, make the change, check it, and end with a short summary.`;
}
