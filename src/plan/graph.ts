// Graph algorithms over a plan's DAG (edges run from a dependency to its dependent), on graphlib.
import { Graph, alg } from '@dagrejs/graphlib';

/** The minimum a graph algorithm needs of a task. */
export interface GraphTask {
  id: string;
  deps: readonly string[];
  /** Relative duration (any unit, the same for all tasks). */
  estimate: number;
}

/** A DAG of tasks with the measures the scheduler and the dashboard use. */
export interface DagInfo {
  /** Task ids in a topological order (every dependency before its dependents). */
  order: string[];
  /** Wave of each task: 0 without dependencies, else 1 + the highest wave among its dependencies. */
  wave: Map<string, number>;
  /** Upward rank: the task's estimate plus the largest upward rank among its dependents. */
  rank: Map<string, number>;
  /** Dependents of each task (the reverse of `deps`). */
  dependents: Map<string, string[]>;
  /** A longest chain by summed estimates, from a source to a sink (the critical path). */
  criticalPath: string[];
  /** Sum of estimates along the critical path. */
  criticalPathLength: number;
}

/** Builds a graphlib graph with one node per task and an edge dep → task. Unknown deps are ignored. */
export function buildGraph(tasks: readonly GraphTask[]): Graph {
  const g = new Graph({ directed: true });
  for (const t of tasks) g.setNode(t.id);
  for (const t of tasks) for (const d of t.deps) if (g.hasNode(d)) g.setEdge(d, t.id);
  return g;
}

/**
 * Finds dependency cycles. Each cycle is returned as a path of ids that starts and ends with the
 * same id, in dependency order (`a → b → a` means a depends on b and b on a). Self-dependencies
 * are cycles of one task.
 */
export function findCycles(tasks: readonly GraphTask[]): string[][] {
  const deps = new Map(tasks.map((t) => [t.id, t.deps]));
  const cycles: string[][] = [];
  for (const t of tasks) if (t.deps.includes(t.id)) cycles.push([t.id, t.id]);
  // graphlib's findCycles gives the strongly connected components that hold a cycle.
  for (const component of alg.findCycles(buildGraph(tasks))) {
    if (component.length < 2) continue;
    cycles.push(cycleWithin(new Set(component), deps));
  }
  return cycles;
}

/** Walks dependencies inside one strongly connected component until an id repeats. */
function cycleWithin(component: Set<string>, deps: Map<string, readonly string[]>): string[] {
  const start = [...component].sort()[0]!;
  const path = [start];
  const seen = new Map([[start, 0]]);
  let at = start;
  for (;;) {
    // In a strongly connected component of 2+ tasks every task has a dependency inside it other
    // than itself (self-dependencies are reported separately).
    const next = (deps.get(at) ?? []).find((d) => d !== at && component.has(d))!;
    const index = seen.get(next);
    if (index !== undefined) return [...path.slice(index), next];
    seen.set(next, path.length);
    path.push(next);
    at = next;
  }
}

/** Computes order, waves, upward ranks and the critical path of an acyclic plan. */
export function analyzeDag(tasks: readonly GraphTask[]): DagInfo {
  const g = buildGraph(tasks);
  const order = alg.topsort(g) as string[];
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const dependents = new Map<string, string[]>(tasks.map((t) => [t.id, []]));
  for (const t of tasks) for (const d of t.deps) dependents.get(d)?.push(t.id);

  const wave = new Map<string, number>();
  for (const id of order) {
    let w = 0;
    for (const d of byId.get(id)!.deps) w = Math.max(w, (wave.get(d) ?? 0) + 1);
    wave.set(id, w);
  }
  const rank = new Map<string, number>();
  const next = new Map<string, string | undefined>();
  for (let i = order.length - 1; i >= 0; i--) {
    const id = order[i]!;
    let best = 0;
    let bestChild: string | undefined;
    for (const c of dependents.get(id)!) {
      const r = rank.get(c)!;
      if (r > best) {
        best = r;
        bestChild = c;
      }
    }
    rank.set(id, byId.get(id)!.estimate + best);
    next.set(id, bestChild);
  }
  let head: string | undefined;
  let length = 0;
  for (const t of tasks) {
    if (t.deps.length === 0 && rank.get(t.id)! > length) {
      head = t.id;
      length = rank.get(t.id)!;
    }
  }
  const criticalPath: string[] = [];
  for (let at = head; at !== undefined; at = next.get(at)) criticalPath.push(at);
  return { order, wave, rank, dependents, criticalPath, criticalPathLength: length };
}

/**
 * An upper bound on how many tasks of the DAG can ever run at the same time (its width: the largest
 * set of tasks none of which depends on another, directly or not). Tasks that run together form
 * such a set, and it holds at most one task of each chain in a partition of the DAG into chains
 * (Dilworth), so any partition's size bounds it. This one is greedy: in `ordered`'s order each task
 * continues the chain of a dependency that no other task has continued yet, else starts a chain.
 * Exact for a chain (1), parallel chains (their number) and a diamond (2); O(tasks + dependencies).
 * @param ordered the tasks in a topological order (every dependency before its dependents).
 */
export function chainCoverSize(ordered: readonly { id: string; deps: readonly string[] }[]): number {
  // Tasks that end a chain so far: each may be continued by one dependent.
  const ends = new Set<string>();
  let chains = 0;
  for (const t of ordered) {
    const continued = t.deps.find((d) => ends.has(d));
    if (continued === undefined) chains++;
    else ends.delete(continued);
    ends.add(t.id);
  }
  return chains;
}

/** All tasks that depend on `id` directly or transitively (not including `id`). */
export function descendants(id: string, dependents: ReadonlyMap<string, readonly string[]>): string[] {
  const out: string[] = [];
  const seen = new Set([id]);
  const stack = [id];
  while (stack.length > 0) {
    for (const c of dependents.get(stack.pop()!) ?? []) {
      if (!seen.has(c)) {
        seen.add(c);
        out.push(c);
        stack.push(c);
      }
    }
  }
  return out;
}
