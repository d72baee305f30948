import { expect } from 'chai';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { codeBlocks, type CodeBlock } from '../support/markdown.js';
import { ROOT } from '../support/run-example.js';

// Every ```ts block of README.md and docs/*.md compiles as written, each on its own, as a user who
// pastes it into a fresh project would compile it: strict TypeScript 5.9, ESM with NodeNext
// resolution, `axios-m2m` resolving to this package's own build (dist/, through the package's
// `exports`, by self-reference: the blocks sit inside the package). The "before" sides of the
// migration guides compile too, against the real libraries (dev dependencies), except
// @navikt/oasis, which is published only to GitHub's registry: OASIS_TYPES below stands in for it.

/** Blocks that may skip compiling, by their first line: each needs a reason here. None so far. */
const OPT_OUTS: readonly string[] = [];
const OPT_OUT_MARKER = '<!-- readme-compile: skip -->';
/** Languages a fenced block may have: `ts` is compiled; the others are shell, output and data. */
const LANGUAGES = ['ts', 'sh', 'console', 'text', 'json'];

// @navikt/oasis 4's token functions as its README documents them (and its lib/index.ts exports):
// a result object rather than an exception, `getToken` reading the bearer token of a request.
const OASIS_TYPES = `declare module '@navikt/oasis' {
  import type { IncomingMessage } from 'node:http';
  export type TokenResult = { ok: true; token: string } | { ok: false; error: Error };
  export type ValidationResult = { ok: true; payload: Record<string, unknown> } | { ok: false; error: Error; errorType: string };
  export function getToken(source: string | Headers | Request | IncomingMessage): string | null;
  export function validateToken(token: string): Promise<ValidationResult>;
  export function requestAzureClientCredentialsToken(target: string): Promise<TokenResult>;
  export function requestOboToken(token: string, audience: string): Promise<TokenResult>;
  export function requestAzureOboToken(token: string, audience: string): Promise<TokenResult>;
  export function requestTokenxOboToken(token: string, audience: string): Promise<TokenResult>;
}
`;

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    lib: ['ES2023'],
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    moduleDetection: 'force',
    types: ['node'],
    strict: true,
    noImplicitOverride: true,
    noFallthroughCasesInSwitch: true,
    esModuleInterop: true,
    isolatedModules: true,
    skipLibCheck: true,
    noEmit: true,
  },
  include: ['*.ts'],
};

interface Located extends CodeBlock {
  file: string;
}

function markdownWithCode(): string[] {
  const docs = existsSync(join(ROOT, 'docs'))
    ? readdirSync(join(ROOT, 'docs'))
        .filter((f) => f.endsWith('.md'))
        .map((f) => `docs/${f}`)
    : [];
  return ['README.md', ...docs.sort()];
}

function allBlocks(): Located[] {
  return markdownWithCode().flatMap((file) => codeBlocks(readFileSync(join(ROOT, file), 'utf8')).map((block) => ({ ...block, file })));
}

const firstLine = (block: CodeBlock) => block.code.split('\n').find((l) => l.trim() !== '') ?? '';
const optedOut = (block: CodeBlock) => block.marker === OPT_OUT_MARKER;
const nameOf = (block: Located) => `${block.file.replace(/[/.]/g, '-')}-L${block.line}.ts`;

describe('README code blocks', function () {
  this.timeout(120_000);
  const dir = join(ROOT, '.tmp', 'readme-compile');

  before(() => {
    if (!existsSync(join(ROOT, 'dist', 'index.d.ts'))) execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'pipe' });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('each name their language (ts, sh, console, text or json), so none escapes the compile check', () => {
    const unnamed = allBlocks()
      .filter((block) => !LANGUAGES.includes(block.lang))
      .map((block) => `${block.file}:${block.line}: \`\`\`${block.lang}`);
    expect(unnamed).to.deep.equal([]);
  });

  it('skip compiling only where the spec lists it', () => {
    const skipped = allBlocks()
      .filter((block) => block.lang === 'ts' && optedOut(block))
      .map(firstLine);
    expect(skipped).to.deep.equal(OPT_OUTS);
  });

  it('compile as written, each on its own, against the built package (strict)', async () => {
    const blocks = allBlocks().filter((block) => block.lang === 'ts' && !optedOut(block));
    expect(blocks.length).to.be.greaterThan(10);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(TSCONFIG, null, 2));
    writeFileSync(join(dir, 'navikt-oasis.d.ts'), OASIS_TYPES);
    const byName = new Map(blocks.map((block) => [nameOf(block), block]));
    for (const [name, block] of byName) writeFileSync(join(dir, name), `${block.code}\n`);

    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    const output = await new Promise<string>((resolve) => {
      execFile(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json'), '--pretty', 'false'], { cwd: ROOT }, (_error, stdout, stderr) => resolve(`${stdout}${stderr}`));
    });
    // file(line,col): error TSnnnn: message -> README.md:<line in the README>: message
    const errors = output
      .split('\n')
      .filter((line) => line.includes('error TS'))
      .map((line) => {
        const match = /([^/\\(]+\.ts)\((\d+),\d+\): (error TS\d+: .*)$/.exec(line);
        const block = match ? byName.get(match[1]!) : undefined;
        return block ? `${block.file}:${block.line + Number(match![2])}: ${match![3]}` : line;
      });
    expect(errors).to.deep.equal([]);
  });
});
