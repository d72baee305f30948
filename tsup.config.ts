import { defineConfig } from 'tsup';

// ESM and CommonJS with declarations. p-memoize (and its own dependency) ship as ESM only,
// so the builds bundle them: `require('axios-m2m')` then works without Node's require(esm).
export default defineConfig({
  entry: { index: 'lib/index.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  sourcemap: false,
  noExternal: ['p-memoize', 'mimic-function'],
});
