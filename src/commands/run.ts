// `swarm run <config> [goal]`: creates a run (src/run/create-run.ts), prints what it reports, and
// runs a coordinator session on it.
import type { Output } from '../presenter/console.js';
import { createRun, type CreateRunNote } from '../run/create-run.js';
import { printFailure } from './refuse.js';
import { runSession, type UiOptions } from './session.js';
import { sigintWhilePlanning } from './sigint.js';

/** Options of `swarm run`. */
export interface RunOptions extends UiOptions {
  plan?: string;
  runDir?: string;
  runId?: string;
  workers?: number;
  mode?: 'eager' | 'waves';
  goal?: string;
}

/** Prints one of createRun's notes: the run's id and directory and the planner's progress on `out`, warnings on `err`. */
function printNote(note: CreateRunNote, out: Output, err: Output): void {
  switch (note.kind) {
    case 'created':
      return out.write(`run ${note.id}\nrun directory: ${note.root}\n`);
    case 'planner':
      return out.write(`${note.line}\n`);
    case 'warning':
      return err.write(`swarm: warning: ${note.message}\n`);
  }
}

/**
 * `swarm run <config>`: validates everything, then creates the run directory and runs it.
 * @returns the exit code (src/run/exit-codes.ts): 2 when the run could not be created, 3 or 130
 *   when the planner spent the budget or was interrupted, else how the session ended.
 */
export async function runCommand(configFile: string, options: RunOptions, out: Output, err: Output): Promise<number> {
  const { dashboard, ...args } = options;
  const created = await createRun(
    { configFile, ...args },
    { onNote: (note) => printNote(note, out, err), interrupts: sigintWhilePlanning },
  );
  if (!created.ok) return printFailure(err, created.error);
  const { planJson } = created.value;
  if (planJson.planner)
    out.write(
      `plan: ${planJson.tasks.length} tasks in ${planJson.waves} wave(s), ${planJson.planner.requests} planner request(s), $${planJson.planner.usage.cost_usd.toFixed(4)}\n`,
    );
  return runSession(created.value, { dashboard }, out, err);
}
