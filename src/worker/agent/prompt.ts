// The built-in agent's prompt: a generic system part (the same for every task, so the prompt cache
// is shared across tasks), a task part (task, goal, dependencies, earlier failures, verify), and a
// short first user message.
import type { Assignment } from '../../protocol/schemas.js';

/** Same for every task and run: how to work. */
export const GENERIC_SYSTEM = `You are a coding agent, one of several working in parallel on a software project. You work alone in your own git worktree (your workspace); your changes are committed and merged automatically when you finish. Other agents work on other tasks at the same time.

How to work:
- Use the tools. Paths are relative to the workspace root; you cannot leave it.
- Read before you edit. Prefer edit_file (exact, unique old_text) for changes to existing files; write_file for new files.
- Keep to your task: do not make unrelated changes, do not reformat files you do not otherwise change.
- Check your work with bash (build, tests) when the project has them.
- Do not commit, push or switch branches: that is done for you.
- When the task is done, call finish with a short summary of what you changed. If the task cannot be done, call finish and say why.`;

/** The task part of the system prompt, from the assignment. */
export function taskSystem(a: Assignment): string {
  if (a.resolve) return resolverSystem(a, a.resolve);
  const parts: string[] = [
    `# Your task: ${a.task.title} (id ${a.task.id}, attempt ${a.attempt})`,
    a.task.description.trim(),
  ];
  if (a.goal) parts.push(`## The goal of the whole run\n${a.goal}`);
  if (a.dependencies.length > 0) {
    parts.push(
      `## Done before you (their work is already in your workspace)\n${a.dependencies.map((d) => `- ${d.id}: ${d.summary ?? '(no summary)'}`).join('\n')}`,
    );
  }
  if (a.task.files.length > 0)
    parts.push(`## Files this task is expected to touch\n${a.task.files.map((f) => `- ${f}`).join('\n')}`);
  if (a.task.verify)
    parts.push(
      `## Verification\nAfter you finish, \`${a.task.verify}\` is run in the workspace and must exit 0, or the attempt fails. Run it yourself before you finish.`,
    );
  const failed = a.previous.filter((p) => p.outcome !== 'succeeded');
  if (failed.length > 0) {
    const lines = (title: string, tail: readonly string[]): string =>
      tail.length ? `\n  ${title}:\n${tail.map((l) => `    ${l}`).join('\n')}` : '';
    parts.push(
      `## Earlier attempts of this task failed\n` +
        failed
          .map(
            (p) =>
              `- attempt ${p.attempt}: ${p.outcome}${p.reason ? ` (${p.reason})` : ''}${p.summary ? `: ${p.summary}` : ''}${lines('verify output', p.verify_tail)}${lines('last output', p.stderr_tail)}`,
          )
          .join('\n') +
        `\nYour workspace starts fresh from the current integration branch; avoid what went wrong.`,
    );
  }
  if (a.conflict) {
    parts.push(
      `## Your previous attempt conflicted with work merged meanwhile\nConflicting files: ${a.conflict.files.join(', ')}. Your workspace now contains the other work; redo your change on top of it.\nYour previous diff:\n\`\`\`diff\n${a.conflict.diff}\n\`\`\``,
    );
  }
  if (a.integration) {
    const i = a.integration;
    parts.push(
      `## Your previous attempt broke the integration branch\nAttempt ${i.attempt} passed its own checks and was merged, but the integration check \`${i.command}\` failed on the branch with it (check ${i.check}, on ${i.tip.slice(0, 12)}), and passes without it: your change does not work together with work merged alongside it. It was taken off the branch; your workspace starts from the branch without it.\nLast output of the check:\n\`\`\`\n${i.output_tail.join('\n')}\n\`\`\`\nYour previous diff:\n\`\`\`diff\n${i.diff}\n\`\`\``,
    );
  }
  if (a.agent?.instructions) parts.push(`## Instructions for your role\n${a.agent.instructions}`);
  return parts.join('\n\n');
}

/**
 * The task part for a conflict resolver (`merge.on_conflict: resolve`): the merge in progress, both
 * sides' diffs of the conflicting files, and what each task was for.
 */
function resolverSystem(a: Assignment, r: NonNullable<Assignment['resolve']>): string {
  const parts: string[] = [
    `# Your task: resolve a merge conflict (id ${a.task.id}, attempt ${a.attempt})`,
    `Attempt ${r.attempt} of the task "${a.task.title}" (id ${a.task.id}) finished its work, but merging it into the integration branch conflicts with work merged meanwhile. Your workspace is the integration branch with that merge in progress: the conflicting files (${r.files.join(', ')}) contain conflict markers (<<<<<<< HEAD is the branch, >>>>>>> is the task's change). Resolve each conflict so that the file keeps both the branch's changes and the task's, remove every marker, and do nothing else. Do not run git commands: the merge is committed for you.`,
    `## The task whose change is being merged: ${a.task.title}\n${a.task.description.trim() || a.task.run || ''}`,
  ];
  for (const o of r.others)
    parts.push(`## Work already on the branch: ${o.title} (task ${o.id})\n${o.description.trim()}`);
  parts.push(`## What the branch changed in these files\n\`\`\`diff\n${r.branch_diff}\n\`\`\``);
  parts.push(`## What the task changed\n\`\`\`diff\n${r.task_diff}\n\`\`\``);
  if (a.task.verify)
    parts.push(
      `## Verification\nAfter you finish, \`${a.task.verify}\` is run in the workspace and must exit 0, or the attempt fails. Run it yourself before you finish.`,
    );
  if (a.agent?.instructions) parts.push(`## Instructions for your role\n${a.agent.instructions}`);
  return parts.join('\n\n');
}

/** The first user message. */
export function firstMessage(a: Assignment): string {
  if (a.resolve) return `Resolve the merge conflict in ${a.resolve.files.join(', ')}, then call finish.`;
  return `Start on the task "${a.task.title}". Explore the workspace as needed, make the change, check it, then call finish.`;
}
