// Where this program's command-line entry point is, for starting `swarm worker` and
// `swarm dashboard --attached` with the same Node.
import { fileURLToPath } from 'node:url';

/** Absolute path of dist/src/cli.js (this file is dist/src/util/cli-path.js once built). */
export const CLI_PATH = fileURLToPath(new URL('../cli.js', import.meta.url));
