// `launcher:`: what loading accepts and refuses, the `podman run` command line a worker gets, and
// the sandbox of an attempt in a container.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { sandboxFor } from '../../src/config/sandbox.js';
import { containerName, INSTALL_ROOT, mountArg, podmanRunArgs } from '../../src/coordinator/launchers/podman.js';
import { makeWorld, type World } from '../helpers.js';

let world: World;
beforeEach(() => {
  world = makeWorld('swarm-launcher-');
});
afterEach(() => world.cleanup());

const load = (text: string) => loadConfig(world.write('swarm.yaml', text));

function config(text: string) {
  const r = load(text);
  if (!r.ok) throw new Error(`expected the config to load: ${JSON.stringify(r.error)}`);
  return r.value.config;
}

describe('launcher: in swarm.yaml', () => {
  it('defaults to local, with the podman settings this kind of host needs', () => {
    const c = config('version: 1\n');
    expect(c.launcher.kind).toBe('local');
    expect(c.launcher.podman).toEqual({
      image: 'host',
      mounts: [],
      network: 'none',
      runtime: 'runc',
      ulimits: ['nofile=4096:4096', 'nproc=4096:4096'],
    });
  });

  it('takes overrides', () => {
    const c = config(
      'version: 1\nlauncher:\n  kind: podman\n  podman:\n    cpus: 1.5\n    memory: 2g\n    network: host\n    runtime: crun\n    ulimits: [nofile=1024:1024]\n    mounts: [/data:ro]\n',
    );
    expect({ kind: c.launcher.kind, podman: c.launcher.podman }).toEqual({
      kind: 'podman',
      podman: {
        image: 'host',
        mounts: ['/data:ro'],
        cpus: 1.5,
        memory: '2g',
        network: 'host',
        runtime: 'crun',
        ulimits: ['nofile=1024:1024'],
      },
    });
  });

  it.each([
    ['launcher:\n  kind: docker\n', 2, 'launcher.kind'],
    ['launcher:\n  kind: podman\n  podman:\n    cpus: -1\n', 4, 'launcher.podman.cpus'],
    ['launcher:\n  podman:\n    mounts: [relative/path]\n', 3, 'launcher.podman.mounts[0]'],
    ['launcher:\n  podman:\n    ulimits: [nofile]\n', 3, 'launcher.podman.ulimits[0]'],
    ['launcher:\n  podman:\n    netwrok: none\n', 3, 'launcher.podman.netwrok'],
  ])('refuses %j at its line and field', (text, line, field) => {
    const r = load(`version: 1\n${text}`);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error[0]).toMatchObject({ line: line + 1, field });
  });
});

describe('podmanRunArgs', () => {
  it('names, labels and confines the container, mounts the repository and fileswarm, and runs swarm worker', () => {
    const c = config(
      'version: 1\nlauncher:\n  kind: podman\n  podman:\n    cpus: 2\n    memory: 1g\n    mounts: [/data, /cache:/c:ro]\n',
    );
    const args = podmanRunArgs(c.launcher.podman, {
      runId: '01ABC',
      id: 'w3',
      runDir: '/r/.swarm/runs/01ABC',
      coordinator: 'S1',
      mounts: ['/r'],
    });
    const line = args.join(' ');
    expect(args.slice(0, 5)).toEqual(['--runtime', 'runc', 'run', '--rm', '--name']);
    expect(containerName('01ABC', 'w3')).toBe('swarm-01abc-w3');
    expect(line).toContain('--name swarm-01abc-w3 --label swarm.run=01ABC --label swarm.worker=w3');
    expect(line).toContain('--network none');
    expect(line).toContain('--ulimit nofile=4096:4096 --ulimit nproc=4096:4096 --cpus 2 --memory 1g');
    expect(line).toContain('-v /r:/r');
    expect(line).toContain(`-v ${INSTALL_ROOT}:${INSTALL_ROOT}:ro`);
    expect(line).toContain('-v /data:/data -v /cache:/c:ro');
    expect(line).toMatch(
      /--rootfs \/:O \S+node \S+cli\.js worker --run-dir \/r\/\.swarm\/runs\/01ABC --id w3 --coordinator S1$/,
    );
  });

  it('runs node from an image when one is named', () => {
    const c = config('version: 1\nlauncher:\n  podman:\n    image: localhost/swarm:ci\n');
    const args = podmanRunArgs(c.launcher.podman, { runId: 'R', id: 'w1', runDir: '/d', coordinator: 'S', mounts: [] });
    expect(args).not.toContain('--rootfs');
    expect(args.join(' ')).toMatch(/ localhost\/swarm:ci node \S+cli\.js worker /);
  });

  it('mounts a bare path at the same path', () => {
    expect(mountArg('/a')).toBe('/a:/a');
    expect(mountArg('/a:ro')).toBe('/a:/a:ro');
    expect(mountArg('/a:/b')).toBe('/a:/b');
    expect(mountArg('/a:/b:ro')).toBe('/a:/b:ro');
  });
});

describe('the sandbox of an attempt in a container', () => {
  it('is the container: no bubblewrap inside it, whatever sandbox: says', () => {
    const c = config(
      'version: 1\nlauncher: {kind: podman}\nsandbox: {mode: workspace}\nroles:\n  coder: {backend: anthropic}\n',
    );
    expect(sandboxFor(c, { role: 'coder', backend: 'anthropic' }, { repo: '/r' }).mode).toBe('none');
    const local = config('version: 1\nroles:\n  coder: {backend: anthropic}\n');
    expect(sandboxFor(local, { role: 'coder', backend: 'anthropic' }, { repo: '/r' }).mode).toBe('workspace');
  });
});
