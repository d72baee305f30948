import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { ROOT } from '../support/run-example.js';

// A recipe copied into a new project fails with ERR_MODULE_NOT_FOUND for a package nobody named.
// So every example says at its top which packages it needs besides axios-m2m and axios
// (`// Extra packages: express (...).`, or `none`), examples/README.md lists the same for each,
// and each imports nothing else but Node's own modules.

/** Packages every example may import without naming them: the package and its peer. */
const ALWAYS = ['axios-m2m', 'axios'];
const EXAMPLE = /\.(ts|mts|cts|js|mjs|cjs)$/;

/** The package an import specifier loads (`@scope/name/sub` is `@scope/name`), or null for a Node module. */
export function packageOf(specifier: string): string | null {
  if (specifier.startsWith('node:')) return null;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/** Every module an example imports: static, type-only, dynamic, re-exports and require(). */
export function importsOf(code: string): string[] {
  return ts.preProcessFile(code, true, true).importedFiles.map((file) => file.fileName);
}

/** The packages a header names: `// Extra packages: a, b (why).`, `none`, or undefined without the line. */
export function namedInHeader(code: string): string[] | undefined {
  const end = code.search(/^(import|export)\b/m);
  const header = end === -1 ? code : code.slice(0, end);
  const line = /^\/\/ Extra packages: (.*)$/m.exec(header)?.[1];
  if (line === undefined) return undefined;
  const names = line
    .replace(/\s*\([^)]*\)/g, '')
    .replace(/\.$/, '')
    .trim();
  return names === 'none' ? [] : names.split(',').map((name) => name.trim());
}

/** Each example's row in examples/README.md: its file and the packages its third column names. */
export function namedInReadme(markdown: string): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  for (const match of markdown.matchAll(/^\| \[([^\]]+)\]\([^)]+\) \|.*\| ([^|]*) \|$/gm)) {
    const cell = match[2]!.trim();
    rows.set(match[1]!, cell === 'none' ? [] : [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!));
  }
  return rows;
}

/** The README's recipes table: each example file it links to and the packages its last column names. */
export function recipesInReadme(markdown: string): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  for (const match of markdown.matchAll(/^\|.*\| \[`([^`]+)`\]\(examples\/[^)]+\) \| ([^|]*) \|$/gm)) {
    const cell = match[2]!.trim();
    rows.set(match[1]!, cell === 'none' ? [] : [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!));
  }
  return rows;
}

/** What is wrong with one example, given the packages its header and the README name. */
export function problemsOf(file: string, code: string, readme: string[] | undefined): string[] {
  const header = namedInHeader(code);
  if (header === undefined) return [`${file}: no "// Extra packages: ..." line at its top (before the imports)`];
  if (readme === undefined) return [`${file}: not listed in examples/README.md`];
  const problems: string[] = [];
  const imported = new Set(
    importsOf(code)
      .map(packageOf)
      .filter((name): name is string => name !== null && !ALWAYS.includes(name)),
  );
  for (const name of [...imported].sort()) {
    if (!header.includes(name)) problems.push(`${file}: imports ${name}, which its header does not name`);
    if (!readme.includes(name)) problems.push(`${file}: imports ${name}, which examples/README.md does not name for it`);
  }
  for (const name of new Set([...header, ...readme])) {
    if (!imported.has(name)) problems.push(`${file}: names ${name}, which it does not import`);
  }
  return problems;
}

describe('examples name the packages they need', () => {
  const dir = join(ROOT, 'examples');
  const files = readdirSync(dir)
    .filter((file) => EXAMPLE.test(file))
    .sort();
  const readme = namedInReadme(readFileSync(join(dir, 'README.md'), 'utf8'));

  it('every example imports only axios-m2m, axios, node: modules and the packages its header and examples/README.md name', () => {
    expect(files.length).to.be.greaterThan(10);
    const problems = files.flatMap((file) => problemsOf(file, readFileSync(join(dir, file), 'utf8'), readme.get(file)));
    expect(problems).to.deep.equal([]);
  });

  it('examples/README.md lists every example, and no file that is not there', () => {
    expect([...readme.keys()].sort()).to.deep.equal(files);
  });

  it("the README's recipes list every example with the same extra packages", () => {
    const recipes = recipesInReadme(readFileSync(join(ROOT, 'README.md'), 'utf8'));
    expect(Object.fromEntries([...recipes].sort())).to.deep.equal(Object.fromEntries([...readme].sort()));
  });

  it('every package an example needs is a dev dependency, so that the suite can run it', () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: object; devDependencies: object };
    const installed = Object.keys({ ...manifest.dependencies, ...manifest.devDependencies });
    const missing = [...new Set([...readme.values()].flat())].filter((name) => !installed.includes(name));
    expect(missing).to.deep.equal([]);
  });

  describe('the check itself (each catches what it names)', () => {
    const example = (header: string, imports: string) => `// What it shows.\n${header}\n// Run: node --import tsx examples/x.ts\n${imports}\n`;
    const imports = "import { once } from 'node:events';\nimport axios from 'axios';\nimport { texas } from 'axios-m2m';\nimport type { Request } from 'express';";

    it('passes an example that names what it imports', () => {
      expect(problemsOf('x.ts', example('// Extra packages: express (types: @types/express).', imports), ['express'])).to.deep.equal([]);
    });

    it('an import its header or the README leaves out, one they name that it does not import', () => {
      expect(problemsOf('x.ts', example('// Extra packages: none.', imports), [])).to.deep.equal([
        'x.ts: imports express, which its header does not name',
        'x.ts: imports express, which examples/README.md does not name for it',
      ]);
      expect(problemsOf('x.ts', example('// Extra packages: express, pino.', imports), ['express'])).to.deep.equal(['x.ts: names pino, which it does not import']);
    });

    it('no header line, no README row', () => {
      expect(problemsOf('x.ts', example('// Needs express.', imports), ['express'])).to.deep.equal([
        'x.ts: no "// Extra packages: ..." line at its top (before the imports)',
      ]);
      expect(problemsOf('x.ts', example('// Extra packages: express.', imports), undefined)).to.deep.equal(['x.ts: not listed in examples/README.md']);
    });

    it('sees dynamic imports and require(), and scoped packages by their scope and name', () => {
      const code = "const m = await import('@opentelemetry/sdk-metrics/build/x.js');\nconst p = require('pino');\nexport * from 'koa';";
      expect(importsOf(code).map(packageOf)).to.deep.equal(['@opentelemetry/sdk-metrics', 'pino', 'koa']);
      expect(packageOf('node:fs')).to.equal(null);
    });

    it("reads the README's third column", () => {
      const md = '| [a.ts](a.ts) | shows a | none |\n| [b.ts](b.ts) | shows `b` | `express`, `@types/x` |';
      expect([...namedInReadme(md)]).to.deep.equal([
        ['a.ts', []],
        ['b.ts', ['express', '@types/x']],
      ]);
    });
  });
});
