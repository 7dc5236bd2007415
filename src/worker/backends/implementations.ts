// The worker's side of the backend registry: the `Backend` that runs an attempt of each backend.
// Adding a backend is one module, one entry in ./registry.ts and one here.
import { AnthropicBackend } from './anthropic.js';
import type { Backend } from './backend.js';
import { CommandBackend } from './command.js';
import type { BackendName } from './registry.js';

const IMPLEMENTATIONS: Readonly<Record<BackendName, () => Backend>> = {
  command: () => new CommandBackend(),
  anthropic: () => new AnthropicBackend(),
};

/** A new instance of the backend that runs attempts of `name`. */
export function backendFor(name: BackendName): Backend {
  return IMPLEMENTATIONS[name]();
}
