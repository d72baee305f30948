import { defineConfig } from 'tsup';

// ESM and CommonJS with declarations; `require('axios-m2m')` works without Node's require(esm), as
// no runtime dependency is ESM only. `cli` is the `axios-m2m` bin (package.json points at dist/cli.js); its `#!/usr/bin/env node`
// line comes from lib/bin.ts and tsup makes the file executable. The bin is ESM only: nothing
// requires it, so the CommonJS build leaves it out (one build shipped). No splitting, so that
// dist/index.js stays one self-contained file; no declarations for the CLI. `testing` is the
// Texas-faithful server, `axios-m2m/testing`, for users' own integration tests. `opentelemetry` is
// `axios-m2m/opentelemetry`: it imports only `@opentelemetry/api` (an optional peer, left external).
// `fetch` is `axios-m2m/fetch`, `tokenFetch`: it imports no axios (its sources come from the main
// entry), and its errors are recognised across copies by the brands in errors.ts.
export default defineConfig({
  entry: { index: 'lib/index.ts', cli: 'lib/bin.ts', testing: 'lib/testing/texas-server.ts', opentelemetry: 'lib/opentelemetry/index.ts', fetch: 'lib/fetch/index.ts' },
  format: ['esm', 'cjs'],
  dts: { entry: { index: 'lib/index.ts', testing: 'lib/testing/texas-server.ts', opentelemetry: 'lib/opentelemetry/index.ts', fetch: 'lib/fetch/index.ts' } },
  splitting: false,
  clean: true,
  target: 'node20',
  platform: 'node',
  sourcemap: false,
  esbuildOptions(options, { format }) {
    // A copy without `cli`: the entry object is shared by both formats' builds.
    if (format === 'cjs') {
      options.entryPoints = Object.fromEntries(Object.entries(options.entryPoints as Record<string, string>).filter(([name]) => name !== 'cli'));
    }
  },
});
