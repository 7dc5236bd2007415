// run.json's `config`: the snapshot of swarm.yaml a run started with, read back typed.
import type { z } from 'zod';
import { Millis } from '../config/duration.js';
import { configSchemas } from '../config/schema.js';

/**
 * The schema of run.json `config`: swarm.yaml's own schema with durations already in milliseconds,
 * and without `tasks` (plan.json has the plan). Defaults fill whatever an older snapshot lacks, so
 * every reader sees the same values (e.g. `liveness.stale_after` 15 000 ms when absent). run.json's
 * schema parses `config` with it, so `RunJson['config']` is a `RunConfig` wherever run.json is read.
 */
export const RunConfigSchema = configSchemas(Millis).ConfigSchema.omit({ tasks: true });

/** The config a run started with: defaults filled in, durations in ms. */
export type RunConfig = z.output<typeof RunConfigSchema>;
