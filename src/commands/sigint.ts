// Ctrl-C as what stops the planner: SIGINT is listened to only while the planner runs, so that
// elsewhere before a session Ctrl-C keeps its default and ends the process at once.
import type { InterruptSource } from '../run/planning.js';

/** An {@link InterruptSource} that stops the planner on SIGINT (Ctrl-C) while it runs. */
export const sigintWhilePlanning: InterruptSource = (stop) => {
  process.on('SIGINT', stop);
  return () => void process.off('SIGINT', stop);
};
