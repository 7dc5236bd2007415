// The JSON Schema of swarm.yaml, generated from the zod schema, for editors to autocomplete and
// check configs (swarm.schema.json at the repository root; `npm run schema` rewrites it).
import { z } from 'zod';
import { ConfigSchema } from './schema.js';

/** The JSON Schema (draft 2020-12) of swarm.yaml as the user writes it (durations as seconds or strings). */
export function configJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(ConfigSchema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
}

/** The text of swarm.schema.json. */
export function configJsonSchemaText(): string {
  return JSON.stringify(configJsonSchema(), null, 2) + '\n';
}
