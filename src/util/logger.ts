// pino loggers that write JSON lines to a file synchronously: an async destination loses every
// line if the process exits before the stream is ready (measured on pino 10), and a crashed
// coordinator's last lines are the ones worth reading.
import fs from 'node:fs';
import path from 'node:path';
import { pino, type Logger } from 'pino';

/**
 * Keys whose values never reach a log: API keys under any of their names, HTTP headers (requests
 * carry `x-api-key` / `authorization`), and whole environments (they hold the keys). The agent
 * backends never log these on purpose; this is the net for an object logged whole by mistake.
 */
const REDACT = [
  'apiKey',
  'api_key',
  '*.apiKey',
  '*.api_key',
  'key',
  '*.key',
  'headers',
  '*.headers',
  'err.headers',
  'err.*.headers',
  'env',
  '*.env',
];

/** A logger appending to `file` (directories are created), at `level` (default: info, or $SWARM_LOG_LEVEL). */
export function fileLogger(
  file: string,
  bindings: Record<string, unknown>,
  level = process.env.SWARM_LOG_LEVEL ?? 'info',
): Logger {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const dest = pino.destination({ dest: file, sync: true, append: true });
  return pino({ level, base: bindings, redact: REDACT, timestamp: pino.stdTimeFunctions.isoTime }, dest);
}

/** A logger that drops everything (for code paths that have no run directory yet). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
