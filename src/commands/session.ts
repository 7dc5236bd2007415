// A coordinator session for `swarm run` and `swarm resume`: the event log, the workers' launcher,
// the terminal presenter or attached dashboard, Ctrl-C and SIGTERM, and how it ended as an exit code.
import { Coordinator } from '../coordinator/coordinator.js';
import { EventLog } from '../coordinator/event-log.js';
import { launcherFor } from '../coordinator/launchers/select.js';
import { AttachedDashboard } from '../dashboard/attach.js';
import { ConsolePresenter, type Output } from '../presenter/console.js';
import { integrationSummary } from '../presenter/integration-summary.js';
import { raisedCapOptions } from '../presenter/resume-hint.js';
import { totalTokens } from '../protocol/usage.js';
import { EXIT } from '../run/exit-codes.js';
import type { Run } from '../run/run.js';
import { fileLogger } from '../util/logger.js';
import { sleep } from '../util/process.js';

/** How a session shows itself: the dashboard (a terminal, unless --no-dashboard) or one line per event. */
export interface UiOptions {
  /** Open the dashboard (src/dashboard/attach.ts); the caller checks that stdin and stdout are a terminal. */
  dashboard?: boolean;
}

/**
 * Runs a coordinator session on a run from createRun or resumeRun to its end, shown by the console
 * presenter or by an attached dashboard (`ui.dashboard`). With the dashboard, the presenter is
 * silent while it is open; the end of the run (summary, exit code) waits until the user has quit
 * it. Listens to SIGINT (Ctrl-C: the first stops dispatching, the second cancels running attempts,
 * the third exits at once) and SIGTERM (as two Ctrl-C) while it runs, and always releases the run's lock.
 * @returns the exit code: 0 all succeeded, 1 some failed (or the coordinator found the run broken),
 *   3 the budget is spent, 130 stopped (see {@link EXIT}).
 */
export async function runSession(run: Run, ui: UiOptions, out: Output, err: Output): Promise<number> {
  const { paths, runJson, planJson, command, lock } = run;
  const logger = fileLogger(paths.coordinatorLog, { role: 'coordinator' });
  const log = new EventLog(paths, run.state);
  const presenter = new ConsolePresenter(out, Date.now(), command === 'resume');
  // The run's last line, when it comes while the dashboard is open: printed once it is closed.
  const held: string[] = [];
  const holding = new ConsolePresenter(
    { write: (t) => void held.push(t), color: out.color },
    Date.now(),
    command === 'resume',
  );
  let dashboard: AttachedDashboard | undefined;
  log.listen((e, state) => {
    if (!dashboard?.open) presenter.onEvent(e, state);
    else if (e.type === 'run.finished') holding.onEvent(e, state);
  });
  const coordinator = new Coordinator({
    paths,
    run: runJson,
    plan: planJson,
    log,
    logger,
    launcher: await launcherFor(runJson.config.launcher, {
      id: runJson.id,
      repo: runJson.repo,
      killGraceMs: runJson.config.scheduling.kill_grace,
      log: logger,
    }),
    command,
    retryFailed: run.retryFailed,
    appliedRequests: run.appliedRequests,
    budget: run.budget,
  });
  let interrupts = 0;
  const onInterrupt = (): void => {
    interrupts++;
    if (interrupts >= 3) {
      logger.warn('third interrupt: exiting at once');
      if (dashboard?.open) {
        // Give the terminal back first (the dashboard restores it as it quits), then exit.
        dashboard.stop();
        void Promise.race([dashboard.closed, sleep(1000)]).then(() => process.exit(EXIT.stopped));
        return;
      }
      process.exit(EXIT.stopped);
    }
    coordinator.interrupt();
  };
  const onTerm = (): void => {
    // SIGTERM asks for a prompt exit: cancel running attempts, as a double Ctrl-C does.
    coordinator.interrupt();
    coordinator.interrupt();
  };
  process.on('SIGINT', onInterrupt);
  process.on('SIGTERM', onTerm);
  logger.info({ command, run: runJson.id, session: coordinator.session }, 'coordinator starting');
  let coordinatorDone = false;
  let released = false;
  const release = (): void => {
    if (!released) lock.release();
    released = true;
  };
  if (ui.dashboard) {
    dashboard = new AttachedDashboard(paths.root, onInterrupt);
    void dashboard.closed.then((how) => {
      if (coordinatorDone) return;
      const why = how.error
        ? `the dashboard could not start (${how.error})`
        : how.code === 0
          ? 'dashboard closed'
          : `the dashboard exited (${how.signal ?? `code ${how.code}`})`;
      presenter.notice(
        `${why}; the run goes on here, one line per event (Ctrl-C stops dispatching). Watch it again with: swarm dashboard ${paths.root}`,
      );
    });
  }
  try {
    const exit = await coordinator.run();
    coordinatorDone = true;
    logger.info({ exit }, 'coordinator exiting');
    release(); // the run is free for another session while the dashboard shows how it ended
    if (dashboard?.open) await dashboard.closed;
    for (const line of held) out.write(line);
    if (exit.kind === 'finished') {
      // A run on a cached clone leaves by publishing (done next, when it is on).
      const clone = runJson.source ? { runDir: paths.root, published: runJson.config.publish.enabled } : undefined;
      out.write(integrationSummary(runJson.repo, log.state, clone));
      out.write(`run directory: ${paths.root}\n`);
      return exit.outcome === 'succeeded' ? EXIT.succeeded : EXIT.failed;
    }
    if (exit.kind === 'broken') {
      err.write(`swarm: ${exit.why}; stopping\n`);
      return EXIT.failed;
    }
    if (exit.why === 'budget') {
      const b = log.state.budget;
      const spent = log.state.usage;
      const caps = [
        b.max_cost_usd !== null ? `$${spent.cost_usd.toFixed(4)} of $${b.max_cost_usd}` : null,
        b.max_tokens !== null ? `${totalTokens(spent)} of ${b.max_tokens} tokens` : null,
      ]
        .filter(Boolean)
        .join(', ');
      out.write(
        `budget exhausted (${caps} spent); raise the cap and continue with: swarm resume ${raisedCapOptions(b)} ${paths.root}\n`,
      );
      return EXIT.budget;
    }
    out.write(`stopped (${exit.why}); continue with: swarm resume ${paths.root}\n`);
    return EXIT.stopped;
  } finally {
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onTerm);
    release();
  }
}
