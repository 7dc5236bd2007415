// Loading swarm.yaml into a validated value, or located issues (exit 2).
import type { z } from 'zod';
import { err, ok, type Result } from '../util/result.js';
import { modelInfo, KNOWN_MODELS } from '../llm/prices.js';
import { AGENT_ROLE_KEYS, ConfigSchema, type Config } from './schema.js';
import { SourceDocument, type InputIssue } from './source.js';
import { zodIssues } from './zod-issues.js';
import { isAgentBackend } from '../worker/backends/registry.js';

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
    if (!isAgentBackend(role.backend)) {
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

/**
 * Parses a YAML document's data with a zod schema. Errors: the empty file, and each schema issue
 * located at its file, line, column and field.
 */
export function parseWith<S extends z.ZodType>(doc: SourceDocument, schema: S): Result<z.output<S>, InputIssue[]> {
  const data = doc.toJS();
  if (data === null || data === undefined) return err([doc.issue([], 'the file is empty')]);
  const parsed = schema.safeParse(data);
  if (!parsed.success) return err(zodIssues(doc, schema, parsed.error.issues));
  return ok(parsed.data);
}
