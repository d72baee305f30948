import { expect } from 'chai';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..', '..');

// The repository explains itself: a comment or test name cites docs/protocols/… or states the
// behaviour, never a file outside the repository (the design notes' texas/API.md or
// entra/TOKEN-ENDPOINT.md), an internal issue number, or a finding's label.
const OUTSIDE = /texas\/API\.md|TOKEN-ENDPOINT\.md|\bissue #?\d+|soak-find(?:ing)s|\bfindings? #?\d+|\bF\d\b/i;
const FOLDERS = ['lib', 'spec', 'bench', 'examples', 'docs', 'demo'];
const ALSO = ['README.md', 'CONTRIBUTING.md'];

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'fixtures' || name === 'node_modules' ? [] : files(path);
    return /\.(ts|mts|cts|mjs|cjs|js|md)$/.test(name) ? [path] : [];
  });
}

describe('a self-contained repository', () => {
  it('cites no file outside it, no issue number and no finding label', () => {
    const self = resolve(import.meta.filename);
    const hits = [...FOLDERS.flatMap((folder) => files(join(root, folder))), ...ALSO.map((name) => join(root, name))]
      .filter((path) => path !== self)
      .flatMap((path) =>
        readFileSync(path, 'utf8')
          .split('\n')
          .flatMap((line, n) => (OUTSIDE.test(line) ? [`${relative(root, path)}:${n + 1}: ${line.trim()}`] : [])),
      );
    expect(hits).to.deep.equal([]);
  });

  it('holds the protocol notes the code cites', () => {
    for (const page of ['texas.md', 'entra.md']) expect(statSync(join(root, 'docs', 'protocols', page)).size, page).to.be.above(1000);
  });
});
