import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

// The app is served by `sapphire serve` under /ui; assets are hashed so the server caches them for a year.
export default defineConfig({
  root: import.meta.dirname,
  base: '/ui/',
  plugins: [preact()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // No source maps: the committed build stays small; the sources ship beside it.
    sourcemap: false,
    chunkSizeWarningLimit: 400,
  },
  server: { proxy: { '/v1': 'http://127.0.0.1:8080' } },
});
