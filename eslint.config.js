// ESLint over the TypeScript sources, with typescript-eslint's type-checked rules: the rules that
// see types are the ones that catch this package's real bugs (a promise nobody awaits, an async
// callback where Node expects a sync one, a switch that forgets a new union member).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    // spec/package/consumer/ is a user's project compiled by its own tsconfig against the packed
    // tarball (types.spec.ts): it has no type information here until the tarball is installed.
    ignores: ['dist/', 'coverage/', '.tmp/', '.stryker-tmp/', 'reports/', 'node_modules/', '**/*.{js,cjs,mjs}', 'spec/package/consumer/'],
  },
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      // A rejection here passes on a reason it was handed (`signal.reason`, a caught error), typed
      // `any`/`unknown` by the platform: that is what the caller expects. A literal string or number
      // rejected is still reported.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingAny: true, allowThrowingUnknown: true }],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'type-imports', fixStyle: 'inline-type-imports' }],
      // tsc's noUnusedLocals and noUnusedParameters report these already, and unlike this rule
      // they count an import that only a TSDoc `{@link}` names as used.
      '@typescript-eslint/no-unused-vars': 'off',
    },
  },
  {
    // Where the rules fight the test idioms:
    // - chai's property assertions (`expect(x).to.be.true`) are expressions by design;
    // - sinon stubs are read detached (`expect(stub.getToken).to.have.been.calledOnce`);
    // - fakes of an async interface (an adapter, a `getToken`) are written `async` to return a
    //   promise, as the real ones do, with nothing to await.
    files: ['spec/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-expressions': 'off',
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/require-await': 'off',
    },
  },
);
