// What the planner is told about the repository: its file tree, the head of its README and its
// package manifest, trimmed to a token budget (≈ 4 characters a token).
import fs from 'node:fs';
import path from 'node:path';
import { globby } from 'globby';

/** Manifests looked for at the top level, in this order. */
const MANIFESTS = [
  'package.json',
  'pyproject.toml',
  'Cargo.toml',
  'go.mod',
  'pom.xml',
  'build.gradle',
  'build.gradle.kts',
  'Gemfile',
  'composer.json',
  'setup.py',
  'Makefile',
];
const READMES = ['README.md', 'README', 'README.rst', 'README.txt', 'readme.md'];

/** The context, as markdown sections. */
export interface RepoContext {
  text: string;
  /** Files in the tree before trimming, and how many are listed. */
  files: number;
  listed: number;
}

const head = (text: string, chars: number): string =>
  text.length <= chars ? text : `${text.slice(0, chars)}\n[... cut ...]`;

/**
 * Describes `repo` in at most about `tokens` tokens: half for the file tree (files ignored by
 * .gitignore and `.swarm/` left out; when too long, every directory with its file count, then as
 * many paths as fit), a quarter each for the README head and the first manifest found.
 */
export async function repoContext(repo: string, tokens: number): Promise<RepoContext> {
  const budget = tokens * 4;
  const files = (
    await globby('**/*', {
      cwd: repo,
      gitignore: true,
      dot: true,
      ignore: ['.git/**', '**/.git/**', '.swarm/**', '**/node_modules/**'],
      followSymbolicLinks: false,
    })
  ).sort();
  const sections: string[] = [];
  let listed = files.length;
  let tree = files.join('\n');
  if (tree.length > budget / 2) {
    const dirs = new Map<string, number>();
    for (const f of files) {
      const d = path.posix.dirname(f);
      dirs.set(d, (dirs.get(d) ?? 0) + 1);
    }
    const dirLines = [...dirs].map(([d, n]) => `${d}/ (${n} files)`).join('\n');
    const room = Math.max(0, budget / 2 - dirLines.length);
    const some: string[] = [];
    let used = 0;
    for (const f of files) {
      if (used + f.length + 1 > room) break;
      some.push(f);
      used += f.length + 1;
    }
    listed = some.length;
    tree = head(`${dirLines}\n\nFiles (first ${some.length} of ${files.length}):\n${some.join('\n')}`, budget / 2);
  }
  sections.push(`## Files of the repository (${files.length})\n${tree || '(none)'}`);
  const readme = READMES.map((r) => path.join(repo, r)).find((p) => fs.existsSync(p));
  if (readme) sections.push(`## ${path.basename(readme)} (head)\n${head(fs.readFileSync(readme, 'utf8'), budget / 4)}`);
  const manifest = MANIFESTS.map((m) => path.join(repo, m)).find((p) => fs.existsSync(p));
  if (manifest) sections.push(`## ${path.basename(manifest)}\n${head(fs.readFileSync(manifest, 'utf8'), budget / 4)}`);
  return { text: sections.join('\n\n'), files: files.length, listed };
}
