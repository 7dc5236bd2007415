// Builds the page `swarm serve` serves at / (web/ → dist/web). `npm run build:web` runs it.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  plugins: [react()],
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    chunkSizeWarningLimit: 1024,
  },
  server: {
    // `npx vite --config web/vite.config.ts` against a `swarm serve` on the default port.
    proxy: { '/api': 'http://127.0.0.1:7700' },
  },
});
