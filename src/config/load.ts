// Loading swarm.yaml and plan files into validated values, or located issues (exit 2).
import fs from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { validatePlan, type ResolvedPlan } from '../coordinator/plan.js';
import { err, ok, type Result } from '../util/result.js';
import { modelInfo, KNOWN_MODELS } from '../llm/prices.js';
import { AGENT_ROLE_KEYS, ConfigSchema, PlanFileSchema, type Config, type TaskSpec } from './schema.js';
import { SourceDocument, type FieldPath, type InputIssue } from './source.js';
import { zodIssues } from './zod-issues.js';

/** A config file after parsing and schema validation. */
export interface LoadedConfig {
  file: string;
  config: Config;
  doc: SourceDocument;
}

/** Reads and validates swarm.yaml. Issues name file, line, column and field. */
export function loadConfig(file: string): Result<LoadedConfig, InputIssue[]> {
  const read = SourceDocument.read(file);
  if ('issues' in read) return err(read.issues);
  const parsed = parseWith(read.doc, ConfigSchema);
  if (!parsed.ok) return parsed;
  const issues = checkModels(read.doc, parsed.value);
  if (issues.length > 0) return err(issues);
  return ok({ file, config: parsed.value, doc: read.doc });
}

/**
 * Checks what the schema cannot: agent keys only on agent roles, and a price for every model
 * (the table in src/llm/prices.ts, or the role's `price:`), since budgets need costs.
 */
function checkModels(doc: SourceDocument, config: Config): InputIssue[] {
  const issues: InputIssue[] = [];
  const unknownModel = (model: string): string =>
    `unknown model "${model}": the price table knows ${KNOWN_MODELS.join(', ')} (and dated ids of them); give \`price: {input, output}\` (USD per million tokens) for another model`;
  for (const [name, role] of Object.entries(config.roles)) {
    if (role.backend === 'command') {
      for (const key of AGENT_ROLE_KEYS) {
        if (role[key] !== undefined)
          issues.push(
            doc.issue(
              ['roles', name, key],
              `\`${key}\` is for agent roles (backend: anthropic); role "${name}" uses backend: command`,
            ),
          );
      }
    } else if (role.model !== undefined && !role.price && !modelInfo(role.model)) {
      issues.push(doc.issue(['roles', name, 'model'], unknownModel(role.model)));
    }
  }
  if (!config.planner.price && !modelInfo(config.planner.model))
    issues.push(doc.issue(['planner', 'model'], unknownModel(config.planner.model)));
  return issues;
}

function parseWith<S extends z.ZodType>(doc: SourceDocument, schema: S): Result<z.output<S>, InputIssue[]> {
  const data = doc.toJS();
  if (data === null || data === undefined) return err([doc.issue([], 'the file is empty')]);
  const parsed = schema.safeParse(data);
  if (!parsed.success) return err(zodIssues(doc, schema, parsed.error.issues));
  return ok(parsed.data);
}

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
      if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory())
        issues.push(doc.issue([...prefix, i, 'cwd'], `directory ${dir} does not exist`));
    });
    if (issues.length > 0) return err(issues);
  }
  return goal === undefined ? plan : ok({ ...plan.value, goal });
}
