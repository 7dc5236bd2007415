#!/bin/sh
# The kubernetes launcher end to end on a real cluster made with kind (https://kind.sigs.k8s.io),
# for a machine that has kind, docker and kubectl (and a registry to pull node:20 from). It has
# NOT been run where fileswarm is developed: no cluster can run there; the same flow runs there
# against a fake API server (test/e2e/kubernetes.test.ts).
#
# What it does: makes a one-node cluster whose node mounts a host directory as the shared volume
# (a hostPath PersistentVolume, ReadWriteMany, bound to the claim `swarm-runs` in namespace
# `swarm`), builds and loads the worker image, copies examples/parallel-edits onto the volume, runs
# it with `launcher.kind: kubernetes`, checks that all seven tasks succeeded and that no Job is
# left, and deletes the cluster.
#
# Run as root, or with a rootless docker: the pods run as root and write into the volume.
# Usage: deploy/kubernetes/kind-e2e.sh   (from the repository's top level, after `npm run build`)
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/fileswarm-kind.XXXXXX)
cluster=fileswarm-e2e
image=localhost/fileswarm-worker:e2e
trap 'kind delete cluster --name "$cluster" >/dev/null 2>&1 || true' EXIT

cat > "$work/kind.yaml" <<YAML
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes:
  - role: control-plane
    extraMounts:
      - hostPath: $work/volume
        containerPath: /swarm-volume
YAML
mkdir -p "$work/volume"
kind create cluster --name "$cluster" --config "$work/kind.yaml" --wait 120s

(cd "$here" && npm pack --pack-destination "$work" >/dev/null)
cp "$here/deploy/kubernetes/Containerfile" "$work/"
docker build -f "$work/Containerfile" -t "$image" "$work"
kind load docker-image "$image" --name "$cluster"

kubectl create namespace swarm
kubectl apply -f - <<YAML
apiVersion: v1
kind: PersistentVolume
metadata: { name: swarm-runs }
spec:
  capacity: { storage: 1Gi }
  accessModes: [ReadWriteMany]
  storageClassName: manual
  hostPath: { path: /swarm-volume }
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: { name: swarm-runs, namespace: swarm }
spec:
  accessModes: [ReadWriteMany]
  storageClassName: manual
  volumeName: swarm-runs
  resources: { requests: { storage: 1Gi } }
YAML

# The repository is the volume's root, as the coordinator sees it and as the pods mount it.
cp -r "$here/examples/parallel-edits/." "$work/example"
sh "$work/example/setup.sh"
cp -r "$work/example/demo/." "$work/volume/"
cat >> "$work/volume/swarm.yaml" <<YAML
launcher:
  kind: kubernetes
  kubernetes:
    namespace: swarm
    image: $image
    volume: { claim: swarm-runs, mount: /swarm }
    resources: { cpu: 500m, memory: 512Mi }
YAML
cd "$work/volume"
git -c user.name=e2e -c user.email=e2e@localhost commit -qam kubernetes
node "$here/dist/src/cli.js" run swarm.yaml --no-dashboard --run-dir run | tee "$work/run.out"
grep -q 'succeeded: 7 succeeded, 0 failed' "$work/run.out"
left=$(kubectl get jobs -n swarm -l swarm.run --no-headers 2>/dev/null | wc -l)
[ "$left" -eq 0 ] || { echo "kind-e2e: $left Jobs left" >&2; exit 1; }
echo "kind-e2e: passed"
