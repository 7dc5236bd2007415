// What a published run says on the forge: the pull request's title and body (the goal, each task
// and its outcome, the checks that ran, the cost) and the comment on the run's issue.
import type { StatusReport } from '../presenter/status-report.js';
import type { AttemptResult, RunSource } from '../protocol/schemas.js';

/** How a run went, as the issue comment says it. */
export type RunVerdict = 'succeeded' | 'partly succeeded' | 'failed';

/** `succeeded` when every task did, `partly succeeded` when some did, else `failed`. */
export function verdictOf(report: StatusReport): RunVerdict {
  const done = report.counts.succeeded ?? 0;
  if (report.total > 0 && done === report.total) return 'succeeded';
  return done > 0 ? 'partly succeeded' : 'failed';
}

/** A check that ran: a task's `verify` command and its last result. */
export interface CheckLine {
  task: string;
  command: string;
  /** Exit code of its last run; null when it did not run. */
  exitCode: number | null;
}

/** Money as the reports print it. */
function usd(cost: number | null | undefined): string {
  return cost === null || cost === undefined ? 'no model cost' : `$${cost.toFixed(4)}`;
}

/** Cell text for a Markdown table (no pipes or newlines). */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
}

/** The pull request's title: the issue's, else the goal's first line, else the run id. */
export function pullTitle(report: StatusReport, source: RunSource | null): string {
  if (source?.issue) return `${source.issue.title} (#${source.issue.number})`;
  const first = report.run.goal?.split('\n')[0]?.trim();
  if (!first) return `fileswarm run ${report.run.id}`;
  return first.length > 100 ? `${first.slice(0, 97)}...` : first;
}

/** The pull request's body, in GitHub Markdown. */
export function pullBody(report: StatusReport, source: RunSource | null, checks: CheckLine[]): string {
  const lines: string[] = [];
  if (report.run.goal) lines.push('## Goal', '', report.run.goal.trim(), '');
  lines.push('## Tasks', '', '| task | outcome | attempts | cost |', '| --- | --- | --- | --- |');
  for (const t of report.tasks)
    lines.push(`| ${cell(`${t.id}: ${t.title}`)} | ${t.state} | ${t.attempts} | ${usd(t.cost_usd)} |`);
  lines.push('');
  if (checks.length > 0) {
    lines.push('## Checks', '');
    for (const c of checks) {
      const how = c.exitCode === null ? 'did not run' : c.exitCode === 0 ? 'passed' : `failed (exit ${c.exitCode})`;
      lines.push(`- \`${c.command.replace(/`/g, "'")}\` (${c.task}): ${how}`);
    }
    lines.push('');
  }
  const u = report.usage;
  const tokens = u ? `, ${u.input_tokens + u.output_tokens} tokens` : '';
  lines.push(
    `fileswarm run \`${report.run.id}\`: ${verdictOf(report)}, ${report.counts.succeeded ?? 0} of ${report.total} tasks, ${usd(u?.cost_usd)}${tokens}.`,
  );
  if (source?.issue) lines.push('', `Closes #${source.issue.number}`);
  return `${lines.join('\n')}\n`;
}

/** The comment on the run's issue: how it went, the pull request, the cost. */
export function issueComment(report: StatusReport, pull: { url: string } | null): string {
  const verdict = verdictOf(report);
  const lines = [
    `fileswarm run \`${report.run.id}\` ${verdict}: ${report.counts.succeeded ?? 0} of ${report.total} tasks succeeded, ${usd(report.usage?.cost_usd)}.`,
    '',
    pull ? `Pull request: ${pull.url}` : 'No change was merged, so there is no pull request.',
  ];
  const failed = report.tasks.filter((t) => t.state !== 'succeeded');
  if (failed.length > 0) {
    lines.push('', 'Not done:');
    for (const t of failed.slice(0, 20)) lines.push(`- ${t.id} (${t.state})${t.note ? `: ${t.note}` : ''}`);
    if (failed.length > 20) lines.push(`- and ${failed.length - 20} more`);
  }
  return `${lines.join('\n')}\n`;
}

/** The checks of a run: each task's `verify` and the exit code of its last attempt's run of it. */
export function checksOf(
  tasks: { id: string; verify: string | null; attempts: number }[],
  lastResult: (task: string, attempt: number) => AttemptResult | undefined,
): CheckLine[] {
  return tasks
    .filter((t) => t.verify)
    .map((t) => {
      const result = t.attempts > 0 ? lastResult(t.id, t.attempts) : undefined;
      return { task: t.id, command: t.verify!, exitCode: result?.verify?.exit_code ?? null };
    });
}
