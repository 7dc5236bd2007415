// `allow_hosts` entries: parsed (config checks) and matched (the sandbox's proxy). No dependencies,
// so that loading a config does not load the proxy.

/** One `allow_hosts` entry: a host name or IP (`*.example.com` for its subdomains), and a port or any. */
export interface AllowedHost {
  host: string;
  port: number | null;
}

/**
 * Parses `allow_hosts` entries: `host`, `host:port`, `*.domain`, `[v6]:port`.
 * @returns the entry, or a message saying what is wrong with it
 */
export function parseAllowedHost(entry: string): AllowedHost | string {
  const m = /^(\[[0-9a-f:]+\]|[a-z0-9*_.-]+)(?::(\d{1,5}))?$/i.exec(entry.trim());
  if (!m) return `"${entry}" is not a host or host:port`;
  const host = m[1]!.toLowerCase().replace(/^\[|\]$/g, '');
  if (host.includes('*') && !/^\*\.[^*]+$/.test(host))
    return `"${entry}": a wildcard is only allowed as a leading "*."`;
  const port = m[2] === undefined ? null : Number(m[2]);
  if (port !== null && (port < 1 || port > 65535)) return `"${entry}": port ${port} is out of range`;
  return { host, port };
}

/** Whether `hostname:port` is allowed by `allow`. */
export function hostAllowed(allow: readonly AllowedHost[], hostname: string, port: number): boolean {
  const h = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  return allow.some(
    (a) =>
      (a.port === null || a.port === port) &&
      (a.host === h || (a.host.startsWith('*.') && h.endsWith(a.host.slice(1)))),
  );
}
