// Loading a run's plan (from `--plan FILE` or the config's `tasks:`) into a validated plan, or
// located issues (exit 2). The plan stage: it runs before any coordinator exists.
import fs from 'node:fs';
import path from 'node:path';
import { parseWith, type LoadedConfig } from '../config/load.js';
import { PlanFileSchema, type TaskSpec } from '../config/schema.js';
import { SourceDocument, type FieldPath, type InputIssue } from '../config/source.js';
import { err, ok, type Result } from '../util/result.js';
import { validatePlan, type ResolvedPlan } from './plan.js';

/**
 * Resolves the plan of a run: tasks from `--plan FILE` if given, else from the config's `tasks:`.
 * A plan file's `goal` (as `swarm plan` writes it) comes back with the plan.
 * Both go through the one validator; its issues are located in the file the tasks came from.
 * With `repo`, also checks that every task's `cwd` is a directory under it.
 */
export function loadPlan(
  loaded: LoadedConfig,
  planFile: string | undefined,
  repo?: string,
): Result<ResolvedPlan & { goal?: string }, InputIssue[]> {
  let tasks: TaskSpec[];
  let goal: string | undefined;
  let doc: SourceDocument;
  let prefix: FieldPath;
  if (planFile !== undefined) {
    const read = SourceDocument.read(planFile);
    if ('issues' in read) return err(read.issues);
    const parsed = parseWith(read.doc, PlanFileSchema);
    if (!parsed.ok) return parsed;
    doc = read.doc;
    tasks = Array.isArray(parsed.value) ? parsed.value : parsed.value.tasks;
    goal = Array.isArray(parsed.value) ? undefined : parsed.value.goal;
    prefix = Array.isArray(parsed.value) ? [] : ['tasks'];
  } else {
    if (loaded.config.tasks === undefined) {
      return err([
        loaded.doc.issue(
          [],
          'no tasks: add a `tasks:` list, pass `--plan FILE`, or give a goal for the planner (`swarm run <config> "<goal>"`)',
        ),
      ]);
    }
    doc = loaded.doc;
    tasks = loaded.config.tasks;
    prefix = ['tasks'];
  }
  const plan = validatePlan(tasks, loaded.config);
  if (!plan.ok) return err(plan.error.map((i) => doc.issue([...prefix, ...i.path], i.message)));
  if (repo !== undefined) {
    const issues: InputIssue[] = [];
    plan.value.tasks.forEach((t, i) => {
      if (t.cwd === null) return;
      const dir = path.resolve(repo, t.cwd);
      if (!fs.existsSync(dir)) issues.push(doc.issue([...prefix, i, 'cwd'], `directory ${dir} does not exist`));
      else if (!fs.statSync(dir).isDirectory())
        issues.push(doc.issue([...prefix, i, 'cwd'], `${dir} is a file, not a directory`));
    });
    if (issues.length > 0) return err(issues);
  }
  return goal === undefined ? plan : ok({ ...plan.value, goal });
}
