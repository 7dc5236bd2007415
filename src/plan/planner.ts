// The planner (DESIGN §4): one LLM conversation that must answer through a `submit_plan` tool whose
// input schema is generated from the plan's zod schema. Its answer goes through the same validator
// as a user's plan; errors go back as the tool result and the model repairs, a bounded number of
// times. Failures are values (the errors and the transcript), never exceptions.
import type Anthropic from '@anthropic-ai/sdk';
import { z } from 'zod';
import { DEFAULTS } from '../config/defaults.js';
import { TaskId, TaskSpec, type Config, type PlannerSpec } from '../config/schema.js';
import { costOf, modelInfo, priceWithDefaults, type ModelPrice } from '../llm/prices.js';
import { askSized, cutOffBy, tokensOf, unfinishedToolUse, withRollingBreakpoint } from '../llm/conversation.js';
import { CapReached, estimateTokens, responseCap, type ConversationCaps } from '../llm/response-cap.js';
import { ApiFailure } from '../llm/retry.js';
import type { Usage } from '../protocol/schemas.js';
import { addUsage, totalTokens, ZERO_USAGE } from '../protocol/usage.js';
import { err, ok, type Result } from '../util/result.js';
import { agentRoles } from './agent-roles.js';
import { validatePlan, type ResolvedPlan } from './plan.js';
import { repoContext } from './repo-context.js';
import { defaultModelOf } from '../worker/backends/registry.js';

/** The task fields a planner writes (agent tasks: no `run`, `cwd` or `env`). */
function plannedTask(roles: [string, ...string[]]) {
  return z.strictObject({
    id: TaskId,
    title: z.string().min(1).max(200).describe('One line for humans.'),
    description: z
      .string()
      .min(1)
      .describe('Complete instructions for the agent that does the task: what to change, where, and how to check it.'),
    deps: z
      .array(TaskId)
      .describe('Ids of tasks whose work this task needs (it starts after they succeed and sees their changes).'),
    role: z.enum(roles).describe('Which agent role does the task.'),
    files: z
      .array(z.string())
      .optional()
      .describe('Paths the task expects to touch; tasks sharing a file never run at once.'),
    verify: z.string().optional().describe('Shell command that must exit 0 after the task (e.g. the tests it adds).'),
    estimate: z
      .number()
      .positive()
      .describe('Relative duration (1 = a small change); longer chains of estimates are started first.'),
  });
}

/** The input of submit_plan. */
function planSchema(roles: [string, ...string[]]) {
  return z.strictObject({
    tasks: z.array(plannedTask(roles)).min(1).describe('The tasks of the plan, a DAG through `deps`.'),
  });
}

/** A task as the planner wrote it (what `swarm plan` saves). */
export type PlannedTask = z.infer<ReturnType<typeof plannedTask>>;

const PLANNER_SYSTEM = `You are the planner of fileswarm, which runs several coding agents in parallel on one repository. Each agent works alone in its own git worktree on one task; finished tasks are merged into an integration branch, and a task starts from the merged work of the tasks it depends on.

Split the goal into tasks that form a DAG:
- A task is a coherent change one agent can make and check alone (typically one feature piece, module or test suite).
- Make tasks independent where you can, so they run in parallel; add a dependency only when a task needs another's changes.
- Tasks that would edit the same file at the same time conflict on merge: give such tasks a dependency, or list the file in both tasks' \`files\` so they are serialized.
- Write each description as complete instructions: the agent sees only its task, the goal and its dependencies' summaries.
- Give each task an estimate of its relative size, and a verify command when the project has a way to check the work.
- Use only the roles listed. Ids are lower-case slugs (a-z, 0-9, _, -).

Answer only by calling submit_plan. If it returns errors, fix them and call it again with the whole corrected plan.`;

/** One request of the planner and what became of its answer. */
export interface PlannerTurn {
  request: number;
  usage: Usage;
  /** Problems of the answer (empty: accepted). */
  errors: string[];
}

/** The planner's record: written to planner.json, also when planning failed. */
export interface PlannerTranscript {
  model: string;
  goal: string;
  /** `budget-exhausted`: the run's budget (config `budget:`) left too little for the next request. */
  outcome: 'planned' | 'invalid' | 'api-error' | 'interrupted' | 'budget-exhausted';
  turns: PlannerTurn[];
  usage: Usage;
  /** The conversation (system prompt, then every message). */
  system: string;
  messages: Anthropic.Messages.MessageParam[];
}

/** A plan made by the planner. */
export interface Planned {
  tasks: PlannedTask[];
  plan: ResolvedPlan;
  transcript: PlannerTranscript;
}

/** Why planning failed, with what to show the user. */
export interface PlanningFailure {
  message: string;
  errors: string[];
  transcript: PlannerTranscript;
}

/** What planGoal needs. */
export interface PlanRequest {
  goal: string;
  config: Config;
  repo: string;
  client: Anthropic;
  signal: AbortSignal;
  /** Called before each request and after each answer, for progress lines. */
  onProgress?(line: string): void;
}

/** The prices of the planner's model (its `price:`, else the table). */
function plannerPrice(p: PlannerSpec): ModelPrice {
  if (p.price) return priceWithDefaults(p.price);
  const info = modelInfo(p.model);
  if (!info) throw new Error(`planner model "${p.model}" has no price`); // loadConfig refuses this
  return info.price;
}

/**
 * Asks the planner model for a plan of `goal`, validates it like any plan, and sends errors back
 * for repair up to `planner.max_repairs` times. The run's budget (config `budget:`) caps the
 * planner too: each answer's `max_tokens` is what the budget leaves after the prompt's estimate.
 * @returns the plan, or a failure (outcome invalid, api-error, interrupted or budget-exhausted)
 *   with the errors of the last answer and the whole transcript.
 */
export async function planGoal(req: PlanRequest): Promise<Result<Planned, PlanningFailure>> {
  const { config, goal } = req;
  const spec = config.planner;
  const price = plannerPrice(spec);
  const roles = agentRoles(config);
  const transcript: PlannerTranscript = {
    model: spec.model,
    goal,
    outcome: 'invalid',
    turns: [],
    usage: { ...ZERO_USAGE },
    system: '',
    messages: [],
  };
  if (!roles)
    return err({
      message: 'planning needs an agent role: add one to `roles:` (e.g. `coder: {backend: anthropic}`)',
      errors: [],
      transcript,
    });

  const schema = planSchema(roles);
  const { $schema: _drop, ...inputSchema } = z.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown>;
  const tool = {
    name: 'submit_plan',
    description: 'Submit the plan: the tasks of a DAG that together reach the goal.',
    input_schema: { ...inputSchema, type: 'object' as const },
  };
  const roleLines = roles.map((n) => {
    const r = config.roles[n]!;
    const model = r.model ?? defaultModelOf(r.backend) ?? DEFAULTS.model;
    return `- ${n}: model ${model} (backend ${r.backend})${r.instructions ? `; ${r.instructions.split('\n')[0]}` : ''}`;
  });
  transcript.system = spec.instructions ? `${PLANNER_SYSTEM}\n\n${spec.instructions}` : PLANNER_SYSTEM;
  const context = await repoContext(req.repo, spec.context_tokens);
  const messages = transcript.messages;
  messages.push({
    role: 'user',
    content: [
      {
        type: 'text',
        text: `# Goal\n${goal}\n\n# Roles\n${roleLines.join('\n')}\n\n# The repository\n${context.text}`,
        cache_control: { type: 'ephemeral' },
      },
    ],
  });

  const caps: ConversationCaps = {
    max_cost_usd: config.budget.max_cost_usd ?? null,
    max_tokens: config.budget.max_tokens ?? null,
  };
  let lastContext = 0; // tokens of the last request's prompt (cached for the next)
  let errors: string[] = [];
  for (let request = 1; request <= 1 + spec.max_repairs; request++) {
    const promptTokens = estimateTokens(transcript.system, tool, messages);
    req.onProgress?.(
      request === 1
        ? `planning with ${spec.model}…`
        : `plan rejected (${errors.length} problem(s)); repair ${request - 1} of ${spec.max_repairs}…`,
    );
    let message: Anthropic.Messages.Message;
    let maxTokens: number;
    try {
      ({ message, maxTokens } = await askSized({
        client: req.client,
        // No forced tool_choice: newer models (Sonnet 5.5) refuse forced tool use; an answer
        // without the call is sent back like any invalid answer. The rolling breakpoint caches
        // each rejected answer and its errors for the repair.
        params: {
          model: spec.model,
          system: transcript.system,
          tools: [tool],
          messages: withRollingBreakpoint(messages),
        },
        signal: req.signal,
        retries: DEFAULTS.apiRetries,
        // Each try is sized on the budget left then (tries that failed midway were charged).
        size: () =>
          responseCap({
            maxOutput: spec.max_tokens,
            caps,
            spent: transcript.usage,
            price,
            promptTokens,
            cachedTokens: lastContext,
          }),
        onPartial: (partial) =>
          void (transcript.usage = addUsage(transcript.usage, { ...partial, cost_usd: costOf(partial, price) })),
        onRetry: (n) => req.onProgress?.(`planner request failed (${n.error}); retrying in ${n.delayMs} ms`),
      }));
    } catch (e) {
      if (req.signal.aborted) {
        transcript.outcome = 'interrupted';
        return err({ message: 'planning was interrupted', errors: [], transcript });
      }
      if (e instanceof CapReached) {
        transcript.outcome = 'budget-exhausted';
        const spent = transcript.usage;
        const why =
          e.cap === 'cost'
            ? `the run's budget ($${caps.max_cost_usd!}, budget.max_cost_usd) leaves too little for the planner's request ${request}: $${spent.cost_usd.toFixed(4)} spent, a prompt of about ${promptTokens} tokens`
            : `the run's token budget (${caps.max_tokens!}, budget.max_tokens) leaves too few for the planner's request ${request}: ${totalTokens(spent)} used, a prompt of about ${promptTokens} tokens`;
        return err({ message: why, errors, transcript });
      }
      if (e instanceof ApiFailure) {
        transcript.outcome = 'api-error';
        return err({ message: `the planner's model request failed: ${e.message}`, errors: [], transcript });
      }
      throw e;
    }
    const tokens = tokensOf(message.usage);
    const usage: Usage = { ...tokens, cost_usd: costOf(tokens, price) };
    transcript.usage = addUsage(transcript.usage, usage);
    lastContext = tokens.input_tokens + tokens.cache_read_tokens + tokens.cache_write_tokens;
    // The answer goes back whole (thinking blocks included: the API wants them with tool use).
    messages.push({ role: 'assistant', content: message.content as Anthropic.Messages.ContentBlockParam[] });

    const calls = message.content.filter((b): b is Anthropic.Messages.ToolUseBlock => b.type === 'tool_use');
    const call = calls.find((b) => b.name === 'submit_plan');
    // Every tool_use needs its tool_result in the next message (the API refuses the request
    // otherwise); only the first submit_plan is read.
    const notRead: Anthropic.Messages.ToolResultBlockParam[] = calls
      .filter((c) => c !== call)
      .map((c) => ({
        type: 'tool_result',
        tool_use_id: c.id,
        is_error: true,
        content:
          c.name === 'submit_plan'
            ? 'not read: one submit_plan call per answer'
            : `there is no tool ${c.name}: call submit_plan`,
      }));
    if (!call) {
      errors = ['the answer did not call submit_plan'];
      transcript.turns.push({ request, usage, errors });
      messages.push({
        role: 'user',
        content: [...notRead, { type: 'text', text: 'Answer by calling submit_plan with the whole plan.' }],
      });
      continue;
    }
    // An answer that stopped inside the call (cut off, or refused) holds what the SDK could parse
    // of its input: perhaps a valid plan missing its last tasks. It is not taken.
    const by = cutOffBy(message);
    const stopped =
      by === 'max_tokens'
        ? `cut off at max_tokens (${maxTokens} tokens)`
        : by === 'context window'
          ? "cut off at the model's context window"
          : 'stopped by a refusal';
    const checked =
      unfinishedToolUse(message) === call
        ? err([
            `the answer was ${stopped} inside the submit_plan call, so the plan is incomplete: submit it again, shorter (fewer tasks, shorter descriptions)`,
          ])
        : checkPlan(call.input, schema, config);
    errors = checked.ok ? [] : checked.error;
    transcript.turns.push({ request, usage, errors });
    if (checked.ok) {
      messages.push({
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: call.id, content: `accepted: ${checked.value.tasks.length} tasks` },
          ...notRead,
        ],
      });
      transcript.outcome = 'planned';
      return ok({ tasks: checked.value.tasks, plan: checked.value.plan, transcript });
    }
    messages.push({
      role: 'user',
      content: [
        {
          type: 'tool_result',
          tool_use_id: call.id,
          is_error: true,
          content: `The plan was rejected:\n${errors.map((e) => `- ${e}`).join('\n')}\nCall submit_plan again with the whole corrected plan.`,
        },
        ...notRead,
      ],
    });
  }
  transcript.outcome = 'invalid';
  return err({ message: `the planner gave no valid plan in ${1 + spec.max_repairs} answer(s)`, errors, transcript });
}

/** Validates a submit_plan input: the schema, then the one plan validator. Issues as `tasks[2].deps[0]: message`. */
function checkPlan(
  input: unknown,
  schema: ReturnType<typeof planSchema>,
  config: Config,
): Result<{ tasks: PlannedTask[]; plan: ResolvedPlan }, string[]> {
  const where = (p: readonly PropertyKey[]): string =>
    p.reduce<string>((s, k) => (typeof k === 'number' ? `${s}[${k}]` : s ? `${s}.${String(k)}` : String(k)), '');
  const parsed = schema.safeParse(input);
  if (!parsed.success) return err(parsed.error.issues.map((i) => `${where(i.path) || 'input'}: ${i.message}`));
  const tasks = parsed.data.tasks;
  const specs = tasks.map((t) => TaskSpec.parse(t));
  const plan = validatePlan(specs, config);
  if (!plan.ok) return err(plan.error.map((i) => `${where(['tasks', ...i.path])}: ${i.message}`));
  return ok({ tasks, plan: plan.value });
}
