// Builds the page (web/index.html + its worker) and the listening test (web/listen.html) into dist-web/. The kernels and the default model are
// imported with `?url`, so they are copied in as hashed assets; run `npm run build` first for dist/*.wasm.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

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
  server: { fs: { allow: [fileURLToPath(new URL('..', import.meta.url))] } },
});
