// Mutation testing of lib/ against the unit tier. Run with `npm run mutate`; one folder at a time
// with `npm run mutate -- --mutate 'lib/cache/**/*.ts'`. See docs/mutation.md.
const preload = ['--require', './etc/stryker/mocha-cli-names.cjs'];

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'mocha',
  mochaOptions: {
    spec: ['spec/unit/**/*.spec.ts'],
    // Replaces .mocharc.json's list, so the leak check is named again beside the timeout hook.
    require: ['spec/support/leak-check.ts', 'etc/stryker/timeout.cjs'],
  },
  // The specs are TypeScript run as ES modules: tsx loads them in each runner.
  testRunnerNodeArgs: ['--import', 'tsx', ...preload],
  checkerNodeArgs: preload,
  // bin.ts is the CLI's process wiring (exit code, stream errors), run only as a child process
  // by the integration tier; the CLI itself (cli.ts) has a unit spec and is mutated.
  mutate: ['lib/**/*.ts', '!lib/**/*.d.ts', '!lib/testing/**', '!lib/bin.ts'],
  coverageAnalysis: 'perTest',
  // Module-level mutants need a fresh process each (ES modules cannot be reloaded): skipped.
  ignoreStatic: true,
  concurrency: 1,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
