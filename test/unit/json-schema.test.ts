import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configJsonSchemaText } from '../../src/config/json-schema.js';

describe('swarm.schema.json', () => {
  it('is the committed output of the zod schema (run `npm run schema` after changing it)', () => {
    expect(fs.readFileSync(new URL('../../swarm.schema.json', import.meta.url), 'utf8')).toBe(configJsonSchemaText());
  });

  it('accepts the keys of swarm.example.yaml and rejects unknown ones', () => {
    const schema = JSON.parse(configJsonSchemaText()) as {
      properties: Record<string, unknown>;
      additionalProperties: boolean;
      required: string[];
    };
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(['version', 'workers', 'scheduling', 'tasks', 'roles']),
    );
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(['version']);
  });
});
