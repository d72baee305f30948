import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { anchors, isExternal, leftovers, links, slug, type Finding } from '../support/markdown.js';
import { ROOT } from '../support/run-example.js';

// The README is read on the npm page and in node_modules: no editing leftovers, no link to a file
// the packed tarball does not hold, no anchor that matches no heading. The same for every markdown
// file the tarball ships beside it (docs/, CHANGELOG.md, CONTRIBUTING.md, examples/README.md).

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** The files `npm pack` would put in the tarball, relative to the package root. */
function packedFiles(): Set<string> {
  const out = execFileSync(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const [pack] = JSON.parse(out) as { files: { path: string }[] }[];
  return new Set(pack!.files.map((file) => file.path));
}

/** Dead relative links and anchors in `markdown`, a file at `path` (relative to the root). */
export function deadLinks(path: string, markdown: string, shipped: Set<string>, read: (file: string) => string): Finding[] {
  const findings: Finding[] = [];
  const own = anchors(markdown);
  for (const { line, target } of links(markdown)) {
    if (isExternal(target)) continue;
    const [file = '', anchor] = target.split('#', 2) as [string, string | undefined];
    if (file === '') {
      if (!own.has(anchor ?? '')) findings.push({ line, problem: `#${anchor} matches no heading` });
      continue;
    }
    const resolved = normalize(join(dirname(path), decodeURI(file.split('?')[0]!))).replace(/\\/g, '/');
    if (resolved.startsWith('..') || !shipped.has(resolved)) {
      findings.push({ line, problem: `${target} is not in the packed package` });
    } else if (anchor !== undefined && resolved.endsWith('.md') && !anchors(read(resolved)).has(anchor)) {
      findings.push({ line, problem: `${target}: #${anchor} matches no heading in ${resolved}` });
    }
  }
  return findings;
}

const show = (path: string, findings: Finding[]) => findings.map((f) => `${path}:${f.line}: ${f.problem}`);

describe('README.md and the markdown shipped with it', function () {
  this.timeout(60_000);
  let shipped: Set<string>;
  const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

  before(() => {
    shipped = packedFiles();
  });

  const markdownFiles = () => [...shipped].filter((file) => file.endsWith('.md')).sort();

  it('ships README.md, and every markdown file it ships is checked here', () => {
    expect(markdownFiles()).to.include('README.md');
  });

  it('has no editing leftovers (stray -->, half-comment headings, TODO/FIXME/XXX, notes to self)', () => {
    const found = markdownFiles().flatMap((file) => show(file, leftovers(read(file))));
    expect(found).to.deep.equal([]);
  });

  it('links only to files inside the packed package, and only to anchors that match a heading', () => {
    const found = markdownFiles().flatMap((file) => show(file, deadLinks(file, read(file), shipped, read)));
    expect(found).to.deep.equal([]);
  });

  it('lists every section of the README in its contents', () => {
    const readme = read('README.md');
    const sections = [...readme.matchAll(/^## (.+)$/gm)].map((m) => m[1]!).filter((title) => title !== 'Contents');
    const contents = /^## Contents\n([\s\S]*?)\n## /m.exec(readme)?.[1] ?? '';
    const listed = [...contents.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]!);
    expect(listed).to.deep.equal(sections.map(slug));
  });

  it('shows the two commands a newcomer needs on a fresh clone, npm test being the one .ci/run runs', () => {
    const readme = read('README.md');
    expect(readme).to.include('npm ci && npm run demo');
    expect(readme).to.match(/^npm test\b/m);
    // .ci/run may wrap it (a timeout around it): any command line that runs `npm test`.
    if (existsSync(join(ROOT, '.ci', 'run'))) expect(read('.ci/run')).to.match(/^[^#\n]*\bnpm test\b/m);
  });

  describe('the checks themselves (each catches what it names)', () => {
    it('a "-->" that closes no comment, and a comment that never closes', () => {
      expect(leftovers('### Proxies\n     what a 407 looks like. -->\ntext')).to.deep.equal([{ line: 2, problem: 'a stray "-->" outside a comment' }]);
      expect(leftovers('<!-- a\nb -->\n<!-- c -->')).to.deep.equal([]);
      expect(leftovers('text\n<!-- never closed\nmore')).to.deep.equal([{ line: 2, problem: 'a "<!--" that never closes' }]);
      expect(leftovers('```html\n-->\n```\n`-->`')).to.deep.equal([]);
    });

    it('a heading with a quote mark followed by " ("', () => {
      expect(leftovers('### Proxies" (under API). Differences').map((f) => f.problem)).to.include('a heading with a quote mark followed by " (" (half a comment?)');
      expect(leftovers('### Proxies (under API)')).to.deep.equal([]);
    });

    it('TODO, FIXME and XXX, and notes to self', () => {
      for (const word of ['TODO', 'FIXME', 'XXX']) expect(leftovers(`a ${word}: later`)).to.have.length(1);
      expect(leftovers('Add to the error table: `no_user_token` | …')).to.have.length(1);
      expect(leftovers('todos and XXXL are words')).to.deep.equal([]);
    });

    it('a relative link or image outside the package, an anchor that matches no heading', () => {
      const shippedHere = new Set(['README.md', 'docs/a.md', 'examples/x.ts']);
      const readHere = (file: string) => (file === 'docs/a.md' ? '# A\n## Part two\n' : '');
      const md = [
        '# Title',
        '## Set-up',
        '[ok](examples/x.ts) [ok](docs/a.md#part-two) [ok](#set-up) [ok](https://example.com/x)',
        '[dead](spec/x.spec.ts) ![dead](img/logo.png) [dead](#nowhere) [dead](docs/a.md#nowhere) [dead](../outside.md)',
        '`[not a link](spec/y.ts)`',
        '```ts',
        '// [not a link](spec/z.ts)',
        '```',
      ].join('\n');
      expect(deadLinks('README.md', md, shippedHere, readHere).map((f) => f.problem)).to.deep.equal([
        'spec/x.spec.ts is not in the packed package',
        'img/logo.png is not in the packed package',
        '#nowhere matches no heading',
        'docs/a.md#nowhere: #nowhere matches no heading in docs/a.md',
        '../outside.md is not in the packed package',
      ]);
      expect(deadLinks('docs/a.md', '[up](../README.md) [ex](../examples/x.ts)', shippedHere, readHere)).to.deep.equal([]);
    });

    it('anchors as GitHub makes them: code ticks and punctuation dropped, repeats numbered', () => {
      const found = anchors('## attachToken(instance, options)\n## Command line: `npx axios-m2m token <scope>`\n#### scope\n#### scope\n## private_key_jwt');
      expect([...found]).to.deep.equal(['attachtokeninstance-options', 'command-line-npx-axios-m2m-token-scope', 'scope', 'scope-1', 'private_key_jwt']);
    });
  });
});
