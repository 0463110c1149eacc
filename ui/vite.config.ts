import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The dashboard served by `mlpipe ui`: built into dist/ui by `npm run build`, every asset local
// (no CDN). Charts (vega-embed, with vega and vega-lite) are a separate chunk loaded on first use.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  logLevel: 'warn',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: fileURLToPath(new URL('../dist/ui', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 2500,
    reportCompressedSize: false,
  },
});
