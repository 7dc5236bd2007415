// Loading swarm.yaml into a validated value, or located issues (exit 2).
import { parseAllowedHost } from '../worker/sandbox/allowed-hosts.js';
import type { z } from 'zod';
import { err, ok, type Result } from '../util/result.js';
import { argumentProblem } from '../util/exec-limits.js';
import { modelInfo, KNOWN_MODELS } from '../llm/prices.js';
import { backendsTaking, defaultModelOf, isAgentBackend, roleKeysOf } from '../worker/backends/registry.js';
import { BACKEND_ROLE_KEYS, ConfigSchema, type Config } from './schema.js';
import { SourceDocument, type InputIssue } from './source.js';
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
  const issues = [...checkModels(read.doc, parsed.value), ...checkSandbox(read.doc, parsed.value)];
  // One argument of `sh -c`, like a task's `run:` (checked with the plan).
  const verify = parsed.value.integration.verify;
  const verifyProblem = verify === undefined ? undefined : argumentProblem('`integration.verify`', verify);
  if (verifyProblem) issues.push(read.doc.issue(['integration', 'verify'], verifyProblem));
  if (issues.length > 0) return err(issues);
  return ok({ file, config: parsed.value, doc: read.doc });
}

/**
 * Checks what the schema cannot: a backend's keys only on its roles, and a price for every model of
 * an agent role and of the planner (the table in src/llm/prices.ts, or the role's `price:`), since
 * budgets need costs.
 */
function checkModels(doc: SourceDocument, config: Config): InputIssue[] {
  const issues: InputIssue[] = [];
  const unknownModel = (model: string): string =>
    `unknown model "${model}": the price table knows ${KNOWN_MODELS.join(', ')} (and dated ids of them); give \`price: {input, output}\` (USD per million tokens) for another model`;
  for (const [name, role] of Object.entries(config.roles)) {
    const own = roleKeysOf(role.backend);
    for (const key of BACKEND_ROLE_KEYS) {
      if (role[key] === undefined || own.includes(key)) continue;
      issues.push(
        doc.issue(
          ['roles', name, key],
          `\`${key}\` is for ${whoTakes(key)}; role "${name}" uses backend: ${role.backend}`,
        ),
      );
    }
    const model = role.model ?? defaultModelOf(role.backend);
    if (isAgentBackend(role.backend) && model !== undefined && !role.price && !modelInfo(model))
      issues.push(
        doc.issue(
          role.model === undefined ? ['roles', name] : ['roles', name, 'model'],
          role.model === undefined
            ? `backend ${role.backend}'s default model "${model}" has no price: name a \`model\`, or give \`price: {input, output}\``
            : unknownModel(model),
        ),
      );
  }
  if (!config.planner.price && !modelInfo(config.planner.model))
    issues.push(doc.issue(['planner', 'model'], unknownModel(config.planner.model)));
  return issues;
}

/**
 * Checks each `allow_hosts` entry (host, host:port, *.domain) and refuses a list where it cannot
 * mean anything: with `network: allow` every host is reachable already.
 */
function checkSandbox(doc: SourceDocument, config: Config): InputIssue[] {
  const issues: InputIssue[] = [];
  const check = (at: (string | number)[], hosts: readonly string[], network: string): void => {
    hosts.forEach((h, k) => {
      const parsed = parseAllowedHost(h);
      if (typeof parsed === 'string') issues.push(doc.issue([...at, k], parsed));
    });
    if (hosts.length > 0 && network === 'allow')
      issues.push(
        doc.issue(
          at,
          '`allow_hosts` limits a sandbox with `network: none` to some hosts; with `network: allow` every host is reachable: set `network: none`, or leave `allow_hosts` out',
        ),
      );
  };
  check(['sandbox', 'allow_hosts'], config.sandbox.allow_hosts, config.sandbox.network);
  for (const [name, role] of Object.entries(config.roles))
    if (role.sandbox?.allow_hosts)
      check(
        ['roles', name, 'sandbox', 'allow_hosts'],
        role.sandbox.allow_hosts,
        role.sandbox.network ?? config.sandbox.network,
      );
  return issues;
}

/** The roles a backend key is for, in words: `agent roles (backend: anthropic)`. */
function whoTakes(key: string): string {
  const backends = backendsTaking(key);
  const names = backends.length > 1 ? `${backends.slice(0, -1).join(', ')} or ${backends.at(-1)}` : backends[0];
  return backends.every(isAgentBackend) ? `agent roles (backend: ${names})` : `roles with backend: ${names}`;
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
