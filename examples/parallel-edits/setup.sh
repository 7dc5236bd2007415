#!/bin/sh
# Makes a small git repository to try git isolation on: examples/parallel-edits/demo/.
#   sh examples/parallel-edits/setup.sh && cd examples/parallel-edits/demo && npx swarm run swarm.yaml
set -eu
here=$(cd "$(dirname "$0")" && pwd)
demo="$here/demo"
rm -rf "$demo"
mkdir -p "$demo/src"
cd "$demo"
git init -q -b main
cat > package.json <<'JSON'
{ "name": "demo", "version": "1.0.0" }
JSON
cat > src/math.js <<'JS'
export function add(a, b) { return a + b; }
export function mul(a, b) { return a * b; }
JS
cat > src/strings.js <<'JS'
export function shout(s) { return s.toUpperCase(); }
JS
printf '# Changelog\n\n## Unreleased\n\n## 1.0.0\n- first release\n' > CHANGELOG.md
cp "$here/swarm.yaml" swarm.yaml
git add -A
git -c user.name=demo -c user.email=demo@example.com commit -qm "demo project"
echo "made $demo (branch main); now: cd $demo && npx swarm run swarm.yaml"
