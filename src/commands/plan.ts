// `swarm plan <config> "<goal>" [-o plan.yaml]`: runs the planner without running the plan, and
// writes an editable plan that `swarm run <config> --plan plan.yaml` runs.
import fs from 'node:fs';
import path from 'node:path';
import { ulid } from 'ulid';
import { stringify } from 'yaml';
import { loadConfig } from '../config/load.js';
import { formatIssue } from '../config/source.js';
import type { Output } from '../presenter/console.js';
import { excludeSwarmDir, repoTopLevel } from '../git/repo.js';
import { EXIT } from '../run/exit-codes.js';
import { missingKeys, planWithTranscript } from '../run/planning.js';
import { sigintWhilePlanning } from './sigint.js';
import { agentRoles } from '../plan/planner.js';

/** Options of `swarm plan`. */
export interface PlanOptions {
  /** Write the plan here (default: print it). */
  output?: string;
}

/**
 * Plans `goal` for the config's repository. The transcript goes to
 * `<repo>/.swarm/plans/<id>/planner.json`. Exit 0 with a plan, 2 when planning failed, 3 when
 * the config's budget left too little for a request, 130 on Ctrl-C.
 */
export async function planCommand(
  configFile: string,
  goalArg: string | undefined,
  options: PlanOptions,
  out: Output,
  err: Output,
): Promise<number> {
  const loaded = loadConfig(configFile);
  if (!loaded.ok) {
    for (const i of loaded.error) err.write(`swarm: ${formatIssue(i)}\n`);
    return EXIT.cannotStart;
  }
  const config = loaded.value.config;
  const goal = goalArg ?? config.goal;
  if (!goal) {
    err.write('swarm: no goal: give one (swarm plan <config> "<goal>") or set `goal:` in the config\n');
    return EXIT.cannotStart;
  }
  if (options.output !== undefined && fs.existsSync(options.output) && fs.statSync(options.output).isDirectory()) {
    err.write(`swarm: ${options.output} is a directory; -o takes a file name\n`);
    return EXIT.cannotStart;
  }
  if (!agentRoles(config)) {
    err.write('swarm: planning needs an agent role in `roles:` (e.g. `coder: {backend: anthropic}`)\n');
    return EXIT.cannotStart;
  }
  const keys = missingKeys(config, true, []);
  if (keys.length > 0) {
    for (const k of keys) err.write(`swarm: ${k}\n`);
    return EXIT.cannotStart;
  }
  const dir = config.run.repo !== undefined ? path.resolve(path.dirname(configFile), config.run.repo) : process.cwd();
  const top = repoTopLevel(dir);
  const repo = top ?? dir;
  if (top) excludeSwarmDir(top); // the transcript goes under .swarm/, which git should not list
  const transcript = path.join(repo, '.swarm', 'plans', ulid(), 'planner.json');
  const log = options.output === undefined ? err : out; // keep stdout for the plan when printing it
  const planned = await planWithTranscript(config, goal, repo, transcript, {
    onProgress: (line) => log.write(`${line}\n`),
    interrupts: sigintWhilePlanning,
  });
  if (!planned.ok) {
    err.write(`swarm: ${planned.error.message}\n`);
    if (planned.error.why === 'budget')
      err.write(`swarm: raise the budget in ${configFile} (the planner is held to it too) and plan again\n`);
    return { 'cannot-start': EXIT.cannotStart, interrupted: EXIT.stopped, budget: EXIT.budget }[planned.error.why];
  }
  const { tasks, plan, transcript: t } = planned.value;
  const text =
    `# Plan for: ${goal.split('\n')[0]}\n# Made by ${t.model} in ${t.turns.length} request(s), $${t.usage.cost_usd.toFixed(4)}; ` +
    `${plan.tasks.length} tasks, ${plan.waves} wave(s), critical path ${plan.critical_path.join(' → ')}.\n` +
    `# Edit it, then run it with: swarm run ${configFile} --plan ${options.output ?? 'plan.yaml'}\n` +
    stringify({ version: 1, goal, tasks }, { lineWidth: 100 });
  if (options.output === undefined) {
    out.write(text);
  } else {
    fs.writeFileSync(options.output, text);
    out.write(`wrote ${plan.tasks.length} tasks to ${options.output} (transcript: ${transcript})\n`);
  }
  return EXIT.succeeded;
}
