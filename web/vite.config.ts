// Builds the page (web/index.html + its worker) and the listening test (web/listen.html) into dist-web/. The kernels and the default model are
// imported with `?url`, so they are copied in as hashed assets; run `npm run build` first for dist/*.wasm.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));
const ISOLATION_HEADERS = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

export default defineConfig({
  root,
  base: './',
  publicDir: false,
  build: {
    outDir: fileURLToPath(new URL('../dist-web', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    assetsInlineLimit: 0,
    rolldownOptions: {
      input: {
        main: fileURLToPath(new URL('index.html', import.meta.url)),
        listen: fileURLToPath(new URL('listen.html', import.meta.url)),
      },
    },
  },
  worker: { format: 'es' },
  // Cross-origin isolation (COOP + COEP) lets the page share memory with worker threads (?threads=2 tunes on two).
  server: { fs: { allow: [fileURLToPath(new URL('..', import.meta.url))] }, headers: ISOLATION_HEADERS },
  preview: { headers: ISOLATION_HEADERS },
});
