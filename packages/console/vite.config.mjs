// The page's build: web/ → dist/public (served by the console's own HTTP server; no CDN, no
// inline script, so the strict CSP holds). Preact's JSX through Vite's built-in transform.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('./web', import.meta.url)),
  base: '/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('./dist/public', import.meta.url)),
    emptyOutDir: true,
    // The polyfill would be an inline script; every browser we support has modulepreload.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
    target: 'es2022',
  },
  server: {
    // `npm run dev:web` proxies the socket to a console started on 3113.
    proxy: { '/ws': { target: 'ws://127.0.0.1:3113', ws: true } },
  },
});
