// `swarm plan <config> "<goal>" [-o plan.yaml]`: runs the planner without running the plan
// (src/run/draft-plan.ts), and writes an editable plan that `swarm run <config> --plan plan.yaml` runs.
import fs from 'node:fs';
import type { Output } from '../presenter/console.js';
import { draftPlan } from '../run/draft-plan.js';
import { EXIT } from '../run/exit-codes.js';
import { printFailure } from './refuse.js';
import { sigintWhilePlanning } from './sigint.js';

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
  const log = options.output === undefined ? err : out; // keep stdout for the plan when printing it
  const drafted = await draftPlan(
    { configFile, goal: goalArg, output: options.output },
    { onProgress: (line) => log.write(`${line}\n`), interrupts: sigintWhilePlanning },
  );
  if (!drafted.ok) return printFailure(err, drafted.error);
  const { text, tasks, transcriptFile } = drafted.value;
  if (options.output === undefined) {
    out.write(text);
  } else {
    fs.writeFileSync(options.output, text);
    out.write(`wrote ${tasks} tasks to ${options.output} (transcript: ${transcriptFile})\n`);
  }
  return EXIT.succeeded;
}
