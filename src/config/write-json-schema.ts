// `npm run schema`: writes swarm.schema.json at the repository root from the zod schema.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { configJsonSchemaText } from './json-schema.js';

const target = fileURLToPath(new URL('../../../swarm.schema.json', import.meta.url));
fs.writeFileSync(target, configJsonSchemaText());
process.stdout.write(`wrote ${target}\n`);
