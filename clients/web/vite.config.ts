// Built by `make web` (vite build clients/web): the root is this folder, the output dist/web/, which
// the daemon's HTTP listener serves as / and /assets/*. `npx vite clients/web` serves it for
// development and forwards /api to a local vigild.
import { defineConfig } from 'vite';

export default defineConfig({
  // Relative asset URLs: the page works behind a proxy that mounts the daemon under a sub-path.
  base: './',
  build: {
    outDir: '../../dist/web',
    emptyOutDir: true,
    assetsDir: 'assets',
    target: 'es2022',
    // The daemon serves these files from disk; source maps would only double what it ships.
    sourcemap: false,
  },
  server: {
    proxy: { '/api': { target: 'http://127.0.0.1:9470', changeOrigin: false } },
  },
});
