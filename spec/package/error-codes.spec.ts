import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LOCAL_ERROR_CODES, OAUTH_ERROR_CODES } from '../../lib/errors.js';
import { AUTH_ERROR_CODES } from '../../lib/inbound/auth-error.js';

const root = resolve(import.meta.dirname, '..', '..');

/** The codes that have a row in one of the README's error tables (`| \`code\` …`). */
function rows(readme: string): Set<string> {
  return new Set([...readme.matchAll(/^\| `([a-z_]+)`/gm)].map((m) => m[1]!));
}

describe('every error code is documented (README, Errors)', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const errors = readme.slice(readme.indexOf('\n## Errors'));

  it('gives each local TokenError code and each AuthError code a row: what happened, what to do', () => {
    const documented = rows(errors);
    expect([...LOCAL_ERROR_CODES, ...AUTH_ERROR_CODES].filter((code) => !documented.has(code))).to.deep.equal([]);
  });

  it('names every OAuth error code that is kept as the code', () => {
    expect(OAUTH_ERROR_CODES.filter((code) => !readme.includes(`\`${code}\``))).to.deep.equal([]);
  });
});
