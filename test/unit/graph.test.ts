// Graph algorithms of the plan's DAG: cycles, waves, upward ranks, critical path, descendants.
import { describe, expect, it } from 'vitest';
import { analyzeDag, chainCoverSize, descendants, findCycles, type GraphTask } from '../../src/plan/graph.js';

/** A task with an estimate of 1 unless given. */
const task = (id: string, deps: string[] = [], estimate = 1): GraphTask => ({ id, deps, estimate });

/** Rotates a cycle `[x, …, x]` so that it starts at its smallest id, for order-independent checks. */
function canonical(cycle: string[]): string[] {
  const ring = cycle.slice(0, -1);
  const start = ring.indexOf([...ring].sort()[0]!);
  const rotated = [...ring.slice(start), ...ring.slice(0, start)];
  return [...rotated, rotated[0]!];
}

describe('findCycles', () => {
  it('finds no cycle in an acyclic plan', () => {
    expect(findCycles([task('a'), task('b', ['a']), task('c', ['a', 'b'])])).toEqual([]);
  });

  it('names a cycle of three in dependency order, starting and ending with the same id', () => {
    // a depends on b, b on c, c on a.
    const cycles = findCycles([task('a', ['b']), task('b', ['c']), task('c', ['a'])]);
    expect(cycles).toEqual([['a', 'b', 'c', 'a']]);
  });

  it('follows dependencies, not dependents, when naming a cycle', () => {
    // a depends on c, c on b, b on a: the cycle read along deps is a → c → b → a.
    const cycles = findCycles([task('a', ['c']), task('b', ['a']), task('c', ['b'])]);
    expect(cycles).toEqual([['a', 'c', 'b', 'a']]);
  });

  it('reports a self-dependency as a cycle of one task', () => {
    expect(findCycles([task('a'), task('b', ['b'])])).toEqual([['b', 'b']]);
  });

  it('reports one cycle per strongly connected component', () => {
    const cycles = findCycles([
      task('a', ['b']),
      task('b', ['a']),
      task('free', ['a']),
      task('c', ['d']),
      task('d', ['e']),
      task('e', ['c']),
      task('x', ['x']),
    ]);
    expect(cycles.map(canonical).sort()).toEqual([
      ['a', 'b', 'a'],
      ['c', 'd', 'e', 'c'],
      ['x', 'x'],
    ]);
  });

  it('names a cycle whose every step is a real dependency when the component has extra edges', () => {
    const tasks = [task('a', ['b']), task('b', ['c', 'a']), task('c', ['a'])];
    const deps = new Map(tasks.map((t) => [t.id, t.deps]));
    const [cycle] = findCycles(tasks);
    expect(cycle![0]).toBe(cycle!.at(-1));
    for (let i = 0; i + 1 < cycle!.length; i++) expect(deps.get(cycle![i]!)).toContain(cycle![i + 1]);
  });

  it('still names the larger cycle when a task of it also depends on itself', () => {
    // a → a (self) and a → b → a: both are cycles the user has to break.
    const cycles = findCycles([task('a', ['a', 'b']), task('b', ['a'])]);
    expect(cycles.map(canonical)).toContainEqual(['a', 'a']);
    expect(cycles.map(canonical)).toContainEqual(['a', 'b', 'a']);
  });

  it('ignores dependencies on unknown tasks', () => {
    expect(findCycles([task('a', ['ghost'])])).toEqual([]);
  });
});

describe('analyzeDag', () => {
  // Hand-checked example (estimates in brackets):
  //
  //   a[2] ──▶ b[3] ──▶ d[4]        e[1] ──▶ f[1]
  //     └────▶ c[1] ───┘
  //
  // ranks: d = 4, b = 3 + 4 = 7, c = 1 + 4 = 5, a = 2 + max(7, 5) = 9, f = 1, e = 1 + 1 = 2.
  // waves: a, e → 0; b, c, f → 1; d → 2. Critical path a → b → d, length 9.
  const example = [
    task('a', [], 2),
    task('b', ['a'], 3),
    task('c', ['a'], 1),
    task('d', ['b', 'c'], 4),
    task('e', [], 1),
    task('f', ['e'], 1),
  ];

  it('orders every dependency before its dependents', () => {
    const { order } = analyzeDag(example);
    expect([...order].sort()).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    for (const t of example) for (const d of t.deps) expect(order.indexOf(d)).toBeLessThan(order.indexOf(t.id));
  });

  it('puts a task one wave after its deepest dependency', () => {
    const { wave } = analyzeDag(example);
    expect(Object.fromEntries(wave)).toEqual({ a: 0, b: 1, c: 1, d: 2, e: 0, f: 1 });
  });

  it('computes the upward rank as the estimate plus the largest rank among dependents', () => {
    const { rank } = analyzeDag(example);
    expect(Object.fromEntries(rank)).toEqual({ a: 9, b: 7, c: 5, d: 4, e: 2, f: 1 });
  });

  it('lists the dependents of each task', () => {
    const { dependents } = analyzeDag(example);
    expect(Object.fromEntries(dependents)).toEqual({ a: ['b', 'c'], b: ['d'], c: ['d'], d: [], e: ['f'], f: [] });
  });

  it('finds the critical path and its length', () => {
    const info = analyzeDag(example);
    expect(info.criticalPath).toEqual(['a', 'b', 'd']);
    expect(info.criticalPathLength).toBe(9);
  });

  it('follows the heavier branch when a cheap task leads to a long chain', () => {
    // x[5] alone, vs y[1] → z[10]: the critical path is y → z (11), not x (5).
    const info = analyzeDag([task('x', [], 5), task('y', [], 1), task('z', ['y'], 10)]);
    expect(info.criticalPath).toEqual(['y', 'z']);
    expect(info.criticalPathLength).toBe(11);
  });

  it('gives a plan of independent tasks one wave and a critical path of one task', () => {
    const info = analyzeDag([task('p', [], 1), task('q', [], 3), task('r', [], 2)]);
    expect([...info.wave.values()]).toEqual([0, 0, 0]);
    expect(info.criticalPath).toEqual(['q']);
    expect(info.criticalPathLength).toBe(3);
  });

  it('takes the wave of a task from its deepest dependency, not its first', () => {
    // d depends on a (wave 0) and on c (wave 2).
    const { wave } = analyzeDag([task('a'), task('b', ['a']), task('c', ['b']), task('d', ['a', 'c'])]);
    expect(wave.get('d')).toBe(3);
  });
});

describe('descendants', () => {
  const { dependents } = analyzeDag([
    task('a'),
    task('b', ['a']),
    task('c', ['a']),
    task('d', ['b', 'c']),
    task('e'),
    task('f', ['e']),
  ]);

  it('lists every direct and transitive dependent once, without the task itself', () => {
    expect(descendants('a', dependents).sort()).toEqual(['b', 'c', 'd']);
  });

  it('lists only what is below the task', () => {
    expect(descendants('b', dependents)).toEqual(['d']);
    expect(descendants('e', dependents)).toEqual(['f']);
  });

  it('is empty for a sink and for an unknown id', () => {
    expect(descendants('d', dependents)).toEqual([]);
    expect(descendants('nope', dependents)).toEqual([]);
  });
});

describe('chainCoverSize', () => {
  it('is exact for a chain, parallel chains, a diamond and independent tasks', () => {
    expect(chainCoverSize([task('a'), task('b', ['a']), task('c', ['b'])])).toBe(1);
    expect(chainCoverSize([task('a'), task('x'), task('b', ['a']), task('y', ['x'])])).toBe(2);
    expect(chainCoverSize([task('a'), task('b', ['a']), task('c', ['a']), task('d', ['b', 'c'])])).toBe(2);
    expect(chainCoverSize([task('a'), task('b'), task('c')])).toBe(3);
  });

  it('is never below the width of the DAG (brute force over 300 random DAGs of up to 10 tasks)', () => {
    let seed = 7;
    const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let k = 0; k < 300; k++) {
      const n = 1 + Math.floor(random() * 10);
      const tasks = Array.from({ length: n }, (_, i) =>
        task(
          `t${i}`,
          Array.from({ length: i }, (_, j) => `t${j}`).filter(() => random() < 0.3),
        ),
      );
      // reach[i] has j when t_j depends on t_i, directly or not (deps come earlier in the list).
      const reach = tasks.map(() => new Set<number>());
      for (let i = n - 1; i >= 0; i--)
        for (const d of tasks[i]!.deps) {
          const j = Number(d.slice(1));
          reach[j]!.add(i);
          for (const r of reach[i]!) reach[j]!.add(r);
        }
      let width = 0;
      for (let mask = 1; mask < 1 << n; mask++) {
        const members = tasks.map((_, i) => i).filter((i) => mask & (1 << i));
        const free = members.every((i) => members.every((j) => !reach[i]!.has(j)));
        if (free) width = Math.max(width, members.length);
      }
      expect(chainCoverSize(tasks)).toBeGreaterThanOrEqual(width);
    }
  });
});
