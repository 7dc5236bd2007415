// The `sandbox:` setting: its resolution per task, what loading refuses, and the order of bwrap's
// mounts (a deeper mount wins, so the order decides what is writable).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SANDBOX_HIDDEN } from '../../src/config/defaults.js';
import { loadConfig } from '../../src/config/load.js';
import { sandboxFor } from '../../src/config/sandbox.js';
import { hostAllowed, parseAllowedHost } from '../../src/worker/sandbox/allowed-hosts.js';
import { bwrapArgs } from '../../src/worker/sandbox/bwrap.js';
import { sandboxEnv } from '../../src/worker/sandbox/environment.js';
import { makeWorld, type World } from '../helpers.js';

let world: World;
beforeEach(() => {
  world = makeWorld('swarm-sandbox-');
});
afterEach(() => world.cleanup());

function config(text: string) {
  const r = loadConfig(world.write('swarm.yaml', text));
  if (!r.ok) throw new Error(`expected the config to load: ${JSON.stringify(r.error)}`);
  return r.value.config;
}

const places = { repo: '/r', home: '/h' };

describe('sandboxFor', () => {
  it('sandboxes agent tasks and not command tasks by default, with no network', () => {
    const c = config('version: 1\nroles:\n  coder: {backend: anthropic}\n  sh: {backend: command}\n');
    expect(sandboxFor(c, { role: 'coder', backend: 'anthropic' }, places)).toMatchObject({
      mode: 'workspace',
      network: 'none',
      writable: [],
    });
    expect(sandboxFor(c, { role: null, backend: 'command' }, places).mode).toBe('none');
    expect(sandboxFor(c, { role: 'sh', backend: 'command' }, places).mode).toBe('none');
  });

  it('lets the run switch command tasks on, and a role override the run; lists are added, paths made absolute', () => {
    const c = config(
      [
        'version: 1',
        'sandbox: {mode: workspace, writable: [cache], hidden: ["~/.secret"]}',
        'roles:',
        '  coder: {backend: anthropic, sandbox: {mode: none}}',
        '  net: {backend: command, sandbox: {network: allow, writable: ["~/tools", /opt/x]}}',
      ].join('\n'),
    );
    expect(sandboxFor(c, { role: null, backend: 'command' }, places).mode).toBe('workspace');
    expect(sandboxFor(c, { role: 'coder', backend: 'anthropic' }, places).mode).toBe('none');
    const net = sandboxFor(c, { role: 'net', backend: 'command' }, places);
    expect(net).toMatchObject({ mode: 'workspace', network: 'allow', writable: ['/r/cache', '/h/tools', '/opt/x'] });
    expect(net.hidden).toEqual([...SANDBOX_HIDDEN.map((p) => p.replace('~', '/h')), '/h/.secret']);
  });
});

describe('loading sandbox settings', () => {
  it('refuses allow_hosts where it cannot mean anything (network allow) and entries that are no host, at their lines', () => {
    const r = loadConfig(
      world.write(
        'swarm.yaml',
        [
          'version: 1',
          'sandbox:',
          '  network: allow',
          '  allow_hosts: [registry.npmjs.org]',
          'roles:',
          '  coder:',
          '    backend: anthropic',
          '    sandbox: {network: none, allow_hosts: ["api.example.com:443", "bad host", "a.*.com", "x:99999"]}',
        ].join('\n'),
      ),
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.map((i) => [i.line, i.field])).toEqual([
      [4, 'sandbox.allow_hosts'],
      [8, 'roles.coder.sandbox.allow_hosts[1]'],
      [8, 'roles.coder.sandbox.allow_hosts[2]'],
      [8, 'roles.coder.sandbox.allow_hosts[3]'],
    ]);
    expect(r.error[0]!.message).toContain('with `network: allow` every host is reachable');
  });

  it('matches allow_hosts entries: host, host:port, *.domain, IPv6', () => {
    const allow = ['registry.npmjs.org', 'api.example.com:443', '*.pypi.org', '[::1]:8080'].map((e) => {
      const h = parseAllowedHost(e);
      if (typeof h === 'string') throw new Error(h);
      return h;
    });
    expect(hostAllowed(allow, 'registry.npmjs.org', 443)).toBe(true);
    expect(hostAllowed(allow, 'REGISTRY.npmjs.org', 80)).toBe(true);
    expect(hostAllowed(allow, 'api.example.com', 443)).toBe(true);
    expect(hostAllowed(allow, 'api.example.com', 80)).toBe(false);
    expect(hostAllowed(allow, 'files.pypi.org', 443)).toBe(true);
    expect(hostAllowed(allow, 'pypi.org', 443)).toBe(false);
    expect(hostAllowed(allow, 'evilpypi.org', 443)).toBe(false);
    expect(hostAllowed(allow, '[::1]', 8080)).toBe(true);
    expect(hostAllowed(allow, 'example.com', 443)).toBe(false);
  });

  it('refuses a mode it does not know, naming the field', () => {
    const r = loadConfig(world.write('swarm.yaml', 'version: 1\nsandbox: {mode: strict}\n'));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error[0]).toMatchObject({ line: 2, field: 'sandbox.mode' });
  });
});

describe('bwrapArgs', () => {
  /** The mount arguments as [flag, path] pairs, in order (the options without a path left out). */
  const mounts = (args: string[]): string[][] => {
    const out: string[][] = [];
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (a === '--bind' || a === '--ro-bind') {
        out.push([a, args[i + 2]!]);
        i += 2;
      } else if (a === '--tmpfs' || a === '--remount-ro') {
        out.push([a, args[i + 1]!]);
        i += 1;
      }
    }
    return out;
  };

  it('binds a worktree writable after the read-only repository that holds it, and the run directory read-only', () => {
    const repo = world.path('repo');
    const run = world.write('repo/.swarm/runs/r1/run.json', '{}').replace('/run.json', '');
    const wt = world.write('repo/.swarm/worktrees/r1/t-1/f', '').replace('/f', '');
    world.write('repo/.git/HEAD', '');
    const args = bwrapArgs({
      home: world.path('home'),
      exposed: [repo, run],
      writable: [wt],
      readOnly: [`${repo}/.git`, run],
      hidden: [],
      network: 'none',
      cwd: wt,
    });
    expect(mounts(args)).toEqual([
      ['--ro-bind', '/'],
      ['--tmpfs', '/tmp'],
      ['--tmpfs', world.path('home')],
      ['--ro-bind', repo],
      ['--ro-bind', run],
      ['--bind', wt],
    ]);
    expect(args).toContain('--unshare-all');
    expect(args).not.toContain('--share-net');
    expect(args.slice(-3)).toEqual(['--chdir', wt, '--']);
  });

  it('keeps .git and the run directory read-only inside a writable repository (in place), shallowest first', () => {
    const repo = world.path('repo');
    world.write('repo/.git/HEAD', '');
    const run = world.write('repo/.swarm/runs/r1/run.json', '{}').replace('/run.json', '');
    const cliHome = world.write('repo/.swarm/runs/r1/tasks/t/1/home/x', '').replace('/x', '');
    world.write('home/.ssh/id_rsa', 'key');
    const args = bwrapArgs({
      home: world.path('home'),
      exposed: [repo, run],
      writable: [repo, cliHome],
      readOnly: [`${repo}/.git`, run],
      hidden: [world.path('home/.ssh'), `${repo}/.env`, world.path('nothing-here')],
      network: 'allow',
      cwd: repo,
    });
    expect(mounts(args).slice(5)).toEqual([
      ['--bind', repo],
      ['--ro-bind', `${repo}/.git`],
      ['--ro-bind', run],
      ['--bind', cliHome],
    ]);
    expect(args).toContain('--share-net');
  });

  it('hides a secret the repository brings back into view (a repository at the home directory)', () => {
    const home = world.path('home');
    world.write('home/.ssh/id_rsa', 'key');
    world.write('home/.npmrc', 'token');
    const args = bwrapArgs({
      home,
      exposed: [home],
      writable: [world.path('home/wt')],
      readOnly: [],
      hidden: [`${home}/.ssh`, `${home}/.npmrc`],
      network: 'none',
      cwd: home,
    });
    expect(mounts(args).slice(-3)).toEqual([
      ['--tmpfs', `${home}/.ssh`],
      ['--remount-ro', `${home}/.ssh`],
      ['--ro-bind', `${home}/.npmrc`],
    ]);
  });
});

describe('sandboxEnv', () => {
  it('passes PATH and the locale, never a key, and sets the private home and /tmp', () => {
    const env = sandboxEnv(
      { PATH: '/bin', LANG: 'C.UTF-8', ANTHROPIC_API_KEY: 'sk', GITHUB_TOKEN: 'gh', HOME: '/root' },
      { SWARM_TASK_ID: 't' },
      '/home/me',
    );
    expect(env).toEqual({ PATH: '/bin', LANG: 'C.UTF-8', HOME: '/home/me', TMPDIR: '/tmp', SWARM_TASK_ID: 't' });
  });
});
