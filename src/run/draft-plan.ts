// Planning a goal without running it, for `swarm plan`: the planner's plan as an editable YAML plan
// that `swarm run <config> --plan FILE` runs, its transcript under <repo>/.swarm/plans/. Prints nothing.
import fs from 'node:fs';
import path from 'node:path';
import { ulid } from 'ulid';
import { stringify } from 'yaml';
import { loadConfig } from '../config/load.js';
import { excludeSwarmDir } from '../git/repo.js';
import { agentRoles } from '../plan/agent-roles.js';
import { err, ok, type Result } from '../util/result.js';
import { missingKeys, planWithTranscript, type PlanningHooks } from './planning.js';
import { resolveRepo } from './repository.js';
import { PLANNING_REASON, refused, rejected, type RunFailure } from './run.js';

/** What to plan: the arguments of `swarm plan`. */
export interface DraftPlanInput {
  /** swarm.yaml as the user named it (its roles, planner and repository). */
  configFile: string;
  /** What to plan (default: the config's `goal`). */
  goal?: string;
  /** `-o FILE`: where the caller will write the plan; refused if it is a directory, and named in the plan's header. */
  output?: string;
  /** The directory to plan for when the config has no `run.repo` (default: the process's current directory). */
  cwd?: string;
}

/** A plan made by the planner, ready to be written. */
export interface DraftPlan {
  /** The plan as YAML (`version`, `goal`, `tasks`) under a comment header: goal, model, requests, cost in USD, waves, critical path, how to run it. */
  text: string;
  /** How many tasks it has. */
  tasks: number;
  /** Where the planner's transcript (planner.json) was written. */
  transcriptFile: string;
}

/**
 * Plans a goal for the config's repository without creating a run. The transcript goes to
 * `<repo>/.swarm/plans/<ulid>/planner.json` whatever the outcome (and `.swarm/` into the
 * repository's info/exclude). Never prints or exits: progress goes to `hooks.onProgress`.
 *
 * @returns the plan, or a {@link RunFailure}: `input` (config issues, with file, line, column and
 *   field), or `refused` with `no-goal`, `output`, `no-agent-role`, `missing-key`,
 *   `planning-failed` (exit 2), `budget` (3: the config's budget left too little for a request) or
 *   `interrupted` (130).
 * @throws on a file system error writing the transcript.
 */
export async function draftPlan(input: DraftPlanInput, hooks: PlanningHooks): Promise<Result<DraftPlan, RunFailure>> {
  const { configFile, output } = input;
  const loaded = loadConfig(configFile);
  if (!loaded.ok) return err(rejected(loaded.error));
  const config = loaded.value.config;
  const goal = input.goal ?? config.goal;
  if (!goal) {
    return err(refused('no-goal', 'no goal: give one (swarm plan <config> "<goal>") or set `goal:` in the config'));
  }
  if (output !== undefined && fs.existsSync(output) && fs.statSync(output).isDirectory()) {
    return err(refused('output', `${output} is a directory; -o takes a file name`));
  }
  if (!agentRoles(config)) {
    return err(
      refused('no-agent-role', 'planning needs an agent role in `roles:` (e.g. `coder: {backend: anthropic}`)'),
    );
  }
  const keys = missingKeys(config, true, []);
  if (keys.length > 0) return err(refused('missing-key', ...keys));
  const target = resolveRepo(configFile, config, input.cwd);
  const repo = target.dir;
  if (target.git) excludeSwarmDir(repo); // the transcript goes under .swarm/, which git should not list
  const transcriptFile = path.join(repo, '.swarm', 'plans', ulid(), 'planner.json');
  const planned = await planWithTranscript(config, goal, repo, transcriptFile, hooks);
  if (!planned.ok) {
    const { message, why } = planned.error;
    const messages =
      why === 'budget'
        ? [message, `raise the budget in ${configFile} (the planner is held to it too) and plan again`]
        : [message];
    return err(refused(PLANNING_REASON[why], ...messages));
  }
  const { tasks, plan, transcript: t } = planned.value;
  const text =
    `# Plan for: ${goal.split('\n')[0]}\n# Made by ${t.model} in ${t.turns.length} request(s), $${t.usage.cost_usd.toFixed(4)}; ` +
    `${plan.tasks.length} tasks, ${plan.waves} wave(s), critical path ${plan.critical_path.join(' → ')}.\n` +
    `# Edit it, then run it with: swarm run ${configFile} --plan ${output ?? 'plan.yaml'}\n` +
    stringify({ version: 1, goal, tasks }, { lineWidth: 100 });
  return ok({ text, tasks: plan.tasks.length, transcriptFile });
}
