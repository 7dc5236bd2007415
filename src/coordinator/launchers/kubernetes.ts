// Workers as Kubernetes Jobs: each `swarm worker` is the one pod of a batch/v1 Job (see
// kubernetes-manifest.ts), created, watched and deleted through @kubernetes/client-node. The
// coordinator sees a worker through its heartbeat in worker.json (another host name) and through
// its pod: one informer (list + watch) on the run's pods answers liveness and resolves `exited`.
// The pod is the attempt's confinement: its processes die with it.
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import {
  BatchV1Api,
  CoreV1Api,
  KubeConfig,
  makeInformer,
  type Informer,
  type ObjectCache,
  type V1Pod,
} from '@kubernetes/client-node';
import { RunPaths } from '../../protocol/paths.js';
import type { LaunchedWorker, Launcher, ProcessLiveness, WorkerExit } from '../launcher.js';
import { jobName, runSelector, workerJob, WORKER_LABEL, type KubernetesSettings } from './kubernetes-manifest.js';

/** How long after an informer error it is started again, ms. */
const REWATCH_MS = 1_000;

/** How often a Job whose pod has not appeared is asked why (its Events), ms. */
const NO_POD_CHECK_MS = 3_000;

/**
 * Waiting reasons of a pod's container that do not mend by waiting: the worker is ended at once and
 * its pod deleted, so the pool replaces it (or stops the run as a crash loop). Source: the
 * kubelet's reasons (kubernetes pkg/kubelet/images/types.go, pkg/kubelet/container/sync_result.go,
 * v1.30).
 */
const CANNOT_START = new Set(['InvalidImageName', 'ErrImageNeverPull', 'CreateContainerConfigError']);

/**
 * Waiting reasons that may mend (a registry's rate limit or outage; the kubelet retries with a
 * back-off): the worker is ended only once the pod has been waiting for one of them this long, ms.
 * A pull whose message says the image does not exist (`not found`, `manifest unknown`) is ended at
 * once.
 */
const MAY_MEND = new Set(['ErrImagePull', 'ImagePullBackOff', 'CreateContainerError']);
const MAY_MEND_MS = 60_000;
const IMAGE_MISSING = /not found|NotFound|manifest unknown/;

/**
 * A FailedCreate that may mend (a ResourceQuota full while other pods run): the Job is left to the
 * job controller's retries, and the pool's never-reported limit.
 */
const QUOTA = /exceeded quota/;

/**
 * The kubeconfig of the settings: $KUBECONFIG, else ~/.kube/config, else the pod's service
 * account (in-cluster), with `context` made current when set.
 * @throws Error when `context` names no context of the kubeconfig
 */
export function kubeConfigFor(settings: KubernetesSettings): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  if (settings.context) {
    if (!kc.getContextObject(settings.context))
      throw new Error(`launcher.kubernetes.context: no context "${settings.context}" in the kubeconfig`);
    kc.setCurrentContext(settings.context);
  }
  return kc;
}

/** What the informer knows of a worker's pod. */
interface PodView {
  phase: string;
  /** The worker container's exit code once it terminated. */
  exitCode: number | null;
  deleted: boolean;
  /**
   * Why its container is not running yet (`ImagePullBackOff: Back-off pulling image "x"`), and
   * since when it has waited for a reason that may mend (ms since epoch).
   */
  waiting?: { reason: string; message: string };
  mendingSince?: number;
}

/**
 * Starts each worker as a Kubernetes Job (see the file's head).
 * - liveness: the pod's phase from the informer (`Pending`/`Running`: alive; `Succeeded`/`Failed`
 *   or deleted: gone); `unknown` before the pod is seen or while the watch is down, when the
 *   heartbeat in worker.json is the judge;
 * - terminate: deletes the Job (propagation Foreground): the pod gets SIGTERM and its
 *   terminationGracePeriodSeconds (`scheduling.kill_grace`);
 * - kill and killAttempt: delete the pod with gracePeriodSeconds 0, then the Job.
 * API calls are asynchronous: a failure to create a Job is written to logs/worker-<id>.stderr and
 * ends the worker (`exited`), so the pool sees it as it sees a crashed process.
 */
export class KubernetesLauncher implements Launcher {
  readonly #settings: KubernetesSettings;
  readonly #runId: string;
  readonly #repo: string;
  readonly #killGraceMs: number;
  /** The owner of the repository's .git here: whom the pods run as, unless `run_as` says. */
  readonly #owner: { uid: number; gid: number } | undefined;
  readonly #kc: KubeConfig;
  readonly #batch: BatchV1Api;
  readonly #core: CoreV1Api;
  readonly #log: Logger | undefined;
  /** The last informer error logged, and when (ms since epoch): the same one is logged once a minute. */
  #lastWatchError = { message: '', at: 0 };
  #informer: (Informer<V1Pod> & ObjectCache<V1Pod>) | undefined;
  /** The informer has listed the pods and its watch is up. */
  #watching = false;
  #closed = false;
  readonly #pods = new Map<string, PodView>();
  readonly #onExit = new Map<string, (exit: WorkerExit) => void>();
  /** logs/worker-<id>.stderr of each worker: where its pod's log goes when the pod fails. */
  readonly #stderr = new Map<string, string>();
  /** Workers whose `exited` has resolved, however (a pod that cannot start is told and deleted once). */
  readonly #exited = new Set<string>();

  /**
   * @param run the run's id, its repository (absolute, on the shared volume),
   *   `scheduling.kill_grace` in ms, and the coordinator's log (for a pod watch that fails)
   * @throws Error when the kubeconfig cannot be loaded (see kubeConfigFor)
   */
  constructor(settings: KubernetesSettings, run: { id: string; repo: string; killGraceMs: number; log?: Logger }) {
    this.#settings = settings;
    this.#runId = run.id;
    this.#repo = run.repo;
    this.#killGraceMs = run.killGraceMs;
    this.#log = run.log;
    try {
      const st = fs.statSync(path.join(run.repo, '.git'));
      this.#owner = { uid: st.uid, gid: st.gid };
    } catch {
      this.#owner = undefined;
    }
    this.#kc = kubeConfigFor(settings);
    this.#batch = this.#kc.makeApiClient(BatchV1Api);
    this.#core = this.#kc.makeApiClient(CoreV1Api);
  }

  launch(options: { runDir: string; id: string; coordinator: string }): LaunchedWorker {
    const paths = new RunPaths(options.runDir);
    fs.mkdirSync(paths.logsDir, { recursive: true });
    this.#watch();
    this.#stderr.set(options.id, paths.workerStderr(options.id));
    const handle = this.#worker(options.id);
    const body = workerJob(this.#settings, {
      runId: this.#runId,
      id: options.id,
      coordinator: options.coordinator,
      repo: this.#repo,
      runDir: options.runDir,
      killGraceMs: this.#killGraceMs,
      owner: this.#owner,
    });
    this.#batch.createNamespacedJob({ namespace: this.#settings.namespace, body }).then(
      () => this.#awaitPod(options.id),
      (e: unknown) => {
        const why = `creating Job ${body.metadata!.name}: ${apiMessage(e)}`;
        this.#tell(options.id, why);
        this.#ended(options.id, { code: null, signal: null, error: why });
      },
    );
    return handle;
  }

  /**
   * Until the worker's pod appears: every NO_POD_CHECK_MS, asks the Job's Events why not. A
   * FailedCreate (admission refused the pod: PodSecurity, a quota, a webhook) ends the worker with
   * the cluster's message in its stderr; the Job is deleted. Events that cannot be read change
   * nothing (the pool's never-reported limit still applies).
   */
  #awaitPod(id: string): void {
    const job = jobName(this.#runId, id);
    const timer = setInterval(() => {
      if (this.#closed || this.#pods.has(id) || this.#exited.has(id)) return clearInterval(timer);
      this.#core
        .listNamespacedEvent({ namespace: this.#settings.namespace, fieldSelector: `involvedObject.name=${job}` })
        .then((events) => {
          const refused = events.items.find((e) => e.reason === 'FailedCreate' && !QUOTA.test(e.message ?? ''));
          if (refused && !this.#pods.has(id) && !this.#exited.has(id))
            this.#cannotStart(id, `Job ${job} cannot make its pod: ${refused.message ?? 'FailedCreate'}`);
        })
        .catch(() => {});
    }, NO_POD_CHECK_MS);
    timer.unref();
  }

  /** Ends a worker whose pod cannot start: says why in its stderr, and deletes its pod and Job. */
  #cannotStart(id: string, why: string): void {
    if (this.#exited.has(id)) return;
    this.#tell(id, why);
    this.#ended(id, { code: null, signal: null, error: why });
    void this.#killPod(id);
  }

  /** Appends a line to the worker's logs/worker-<id>.stderr (never throws: a full disk loses it). */
  #tell(id: string, line: string): void {
    const file = this.#stderr.get(id);
    if (!file) return;
    try {
      fs.appendFileSync(file, line.endsWith('\n') ? line : `${line}\n`);
    } catch {
      // Nowhere else to say it.
    }
  }

  /** A worker Job an earlier session created (resume): watched, never stopped, killed with its attempt. */
  attach(options: { runDir: string; id: string }): LaunchedWorker {
    this.#stderr.set(options.id, new RunPaths(options.runDir).workerStderr(options.id));
    this.#watch();
    return { ...this.#worker(options.id), terminate: () => {} };
  }

  #worker(id: string): LaunchedWorker {
    const exited = new Promise<WorkerExit>((resolve) => this.#onExit.set(id, resolve));
    return {
      id,
      exited,
      liveness: () => this.#liveness(id),
      starting: () => {
        const pod = this.#pods.get(id);
        return pod !== undefined && !pod.deleted && pod.phase === 'Pending' && !this.#exited.has(id);
      },
      terminate: () => void this.#deleteJob(id, 'Foreground'),
      kill: () => void this.#killPod(id),
      killAttempt: () => {
        // The attempt's processes are in the worker's pod: they die with it.
        void this.#killPod(id);
        return [];
      },
    };
  }

  #liveness(id: string): ProcessLiveness {
    const pod = this.#pods.get(id);
    if (pod && (pod.deleted || pod.phase === 'Succeeded' || pod.phase === 'Failed')) return 'gone';
    if (!this.#watching || !pod) return 'unknown';
    return 'alive';
  }

  /** Starts the informer on the run's pods, once; started again after an error until close(). */
  #watch(): void {
    if (this.#informer || this.#closed) return;
    const namespace = this.#settings.namespace;
    const labelSelector = runSelector(this.#runId);
    const informer = makeInformer(
      this.#kc,
      `/api/v1/namespaces/${namespace}/pods`,
      async () => {
        const pods = await this.#core.listNamespacedPod({ namespace, labelSelector });
        // client-node 1.4 goes on to open the watch after a list, stopped or not: after close(),
        // failing here keeps it from doing so.
        if (this.#closed) throw new Error('the launcher is closed');
        return pods;
      },
      labelSelector,
    );
    const seen = (pod: V1Pod, deleted: boolean): void => this.#seen(pod, deleted);
    informer.on('add', (pod) => seen(pod, false));
    informer.on('update', (pod) => seen(pod, false));
    informer.on('delete', (pod) => seen(pod, true));
    informer.on('connect', () => (this.#watching = true));
    informer.on('error', (e: unknown) => {
      this.#watching = false;
      // close() aborts the watch, which reports the abort as an error: not one to log or retry.
      if (this.#closed) return;
      const message = apiMessage(e);
      const now = Date.now();
      if (message !== this.#lastWatchError.message || now - this.#lastWatchError.at > 60_000) {
        this.#lastWatchError = { message, at: now };
        this.#log?.warn({ err: message }, "watching the run's pods failed; retrying (the heartbeats decide meanwhile)");
      }
      // Checked again when the timer fires: close() may come in between, and a restarted watch
      // would keep the process alive after its run.
      setTimeout(() => {
        if (!this.#closed) void informer.start().catch(() => {});
      }, REWATCH_MS).unref();
    });
    this.#informer = informer;
    void informer.start().catch(() => {});
  }

  #seen(pod: V1Pod, deleted: boolean): void {
    const id = pod.metadata?.labels?.[WORKER_LABEL];
    if (!id) return;
    const state = pod.status?.containerStatuses?.[0]?.state;
    const terminated = state?.terminated;
    const waiting = state?.waiting?.reason
      ? { reason: state.waiting.reason, message: state.waiting.message ?? '' }
      : undefined;
    const view: PodView = {
      phase: pod.status?.phase ?? 'Pending',
      exitCode: terminated?.exitCode ?? null,
      deleted,
      waiting,
    };
    const before = this.#pods.get(id);
    if (waiting && MAY_MEND.has(waiting.reason)) view.mendingSince = before?.mendingSince ?? Date.now();
    this.#pods.set(id, view);
    if (!deleted && waiting && this.#hopeless(waiting, view.mendingSince))
      this.#cannotStart(id, `pod ${pod.metadata?.name} cannot start: ${waiting.reason}: ${waiting.message}`);
    if (view.phase === 'Failed' && before?.phase !== 'Failed' && pod.metadata?.name)
      void this.#keepLog(id, pod.metadata.name);
    if (deleted || view.phase === 'Succeeded' || view.phase === 'Failed')
      this.#ended(id, { code: view.exitCode, signal: deleted && view.exitCode === null ? 'pod deleted' : null });
  }

  /**
   * Whether a pod waiting for `waiting` will not start: a reason that does not mend, an image that
   * does not exist, or a reason that may mend but has lasted MAY_MEND_MS (looked at again on the
   * pod's next update: the kubelet updates a backing-off pod at each retry).
   */
  #hopeless(waiting: { reason: string; message: string }, mendingSince: number | undefined): boolean {
    if (CANNOT_START.has(waiting.reason)) return true;
    if (!MAY_MEND.has(waiting.reason)) return false;
    if (waiting.reason !== 'CreateContainerError' && IMAGE_MISSING.test(waiting.message)) return true;
    return mendingSince !== undefined && Date.now() - mendingSince >= MAY_MEND_MS;
  }

  /**
   * Appends the last lines of a failed pod's log (its worker's stdout and stderr: a crash before
   * the worker's own log opens) to logs/worker-<id>.stderr, as a local worker's stderr is kept.
   */
  async #keepLog(id: string, pod: string): Promise<void> {
    let text: string;
    try {
      const log = await this.#core.readNamespacedPodLog({
        name: pod,
        namespace: this.#settings.namespace,
        tailLines: 50,
      });
      text = `--- the last lines of pod ${pod}'s log ---\n${log}`;
    } catch (e) {
      text = `--- pod ${pod} failed; its log could not be read: ${apiMessage(e)}`;
    }
    this.#tell(id, text);
  }

  #ended(id: string, exit: WorkerExit): void {
    this.#exited.add(id);
    this.#onExit.get(id)?.(exit);
  }

  /**
   * Deletes the worker's Job. When no pod of it was ever seen (the cluster never made one, or the
   * watch is down), the worker is taken as ended now: no pod event would ever say so, and a
   * session's end waits for its workers.
   */
  async #deleteJob(id: string, propagationPolicy: 'Foreground' | 'Background'): Promise<void> {
    try {
      await this.#batch.deleteNamespacedJob({
        name: jobName(this.#runId, id),
        namespace: this.#settings.namespace,
        propagationPolicy,
      });
    } catch {
      // Gone already, or the API is unreachable: the pod's watch and the heartbeat decide.
    }
    if (!this.#pods.has(id)) this.#ended(id, { code: null, signal: 'Job deleted' });
  }

  /** Deletes the worker's pod at once (gracePeriodSeconds 0: SIGKILL), then its Job. */
  async #killPod(id: string): Promise<void> {
    const namespace = this.#settings.namespace;
    try {
      await this.#core.deleteCollectionNamespacedPod({
        namespace,
        labelSelector: `job-name=${jobName(this.#runId, id)}`,
        gracePeriodSeconds: 0,
      });
    } catch {
      // As for the Job: the watch and the heartbeat decide.
    }
    await this.#deleteJob(id, 'Background');
  }

  /**
   * At the end of a coordinator session: stops watching, and deletes the run's Jobs whose pod has
   * ended, and those of `finished` adopted workers (done with their attempt, exiting: their pod may
   * still be cleaning up; the Job's deletion sends it SIGTERM, which a stopping worker ignores).
   * Those still running an adopted attempt stay, for the next resume.
   */
  async close(finished: readonly string[] = []): Promise<void> {
    this.#closed = true;
    const informer = this.#informer;
    informer?.stop();
    // client-node 1.4's informer keeps the watch request only once its response has begun: a stop
    // while it connects leaves that watch open (and the process alive). Stopped again meanwhile.
    let tries = 0;
    const again = setInterval(() => {
      informer?.stop();
      if (++tries >= 10) clearInterval(again);
    }, 500);
    again.unref();
    // Otherwise only pods seen ended: a Job whose pod is running, or unknown (the watch is down),
    // keeps its attempt.
    const done = new Set(finished);
    await deleteRunJobs(this.#kc, this.#settings, this.#runId, (id) => done.has(id) || this.#liveness(id) === 'gone');
  }
}

/**
 * Deletes a run's worker Jobs (label `swarm.run=<run>`) and their pods, for the end of a session
 * and `swarm clean`. Returns the names of the Jobs deleted.
 * @param which which workers' Jobs (by worker id); default all
 * @throws Error with the API's message when the Jobs cannot be listed
 */
export async function deleteRunJobs(
  kc: KubeConfig,
  settings: KubernetesSettings,
  runId: string,
  which: (worker: string) => boolean = () => true,
): Promise<string[]> {
  const batch = kc.makeApiClient(BatchV1Api);
  const namespace = settings.namespace;
  const jobs = await batch.listNamespacedJob({ namespace, labelSelector: runSelector(runId) });
  const deleted: string[] = [];
  for (const job of jobs.items) {
    const name = job.metadata?.name;
    const worker = job.metadata?.labels?.[WORKER_LABEL];
    if (!name || (worker && !which(worker))) continue;
    try {
      await batch.deleteNamespacedJob({ name, namespace, propagationPolicy: 'Background', gracePeriodSeconds: 0 });
      deleted.push(name);
    } catch {
      // Deleted meanwhile (its TTL): nothing to do.
    }
  }
  return deleted;
}

/** The API server's message of a failed call (its Status `message`), else the error's. */
export function apiMessage(e: unknown): string {
  const body = (e as { body?: unknown }).body;
  if (typeof body === 'string') {
    try {
      const status = JSON.parse(body) as { message?: string };
      if (status.message) return status.message;
    } catch {
      return body;
    }
  }
  return (e as Error).message ?? String(e);
}
