#!/bin/sh
# Makes a small git repository to try the merge queue on: examples/merge-queue/demo/.
#   sh examples/merge-queue/setup.sh && cd examples/merge-queue/demo && npx swarm run swarm.yaml
set -eu
here=$(cd "$(dirname "$0")" && pwd)
demo="$here/demo"
rm -rf "$demo"
mkdir -p "$demo/src"
cd "$demo"
git init -q -b main
cat > package.json <<'JSON'
{ "name": "demo", "version": "1.0.0", "type": "module" }
JSON
cat > src/greet.js <<'JS'
export function greet(name) { return `Hello, ${name}.`; }
JS
cat > src/app.js <<'JS'
import { greet } from './greet.js';
export const banner = () => greet('world');
JS
# The project's tests: load every module (a missing export fails here) and check what they say.
cat > test.js <<'JS'
import fs from 'node:fs';
const modules = {};
for (const f of fs.readdirSync('src')) modules[f] = await import(`./src/${f}`);
const { banner } = modules['app.js'];
if (banner() !== 'Hello, world.') throw new Error(`banner() is ${banner()}`);
if (modules['farewell.js'] && !modules['farewell.js'].farewell('Ann').endsWith('Goodbye.'))
  throw new Error('farewell() does not say goodbye');
console.log(`ok: ${Object.keys(modules).length} modules`);
JS
printf '# Changelog\n\n## 1.0.0\n- first release\n' > CHANGELOG.md
cp "$here/swarm.yaml" swarm.yaml
git add -A
git -c user.name=demo -c user.email=demo@example.com commit -qm "demo project"
echo "made $demo (branch main); now: cd $demo && npx swarm run swarm.yaml"
