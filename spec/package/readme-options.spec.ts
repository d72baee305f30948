import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { ROOT } from '../support/run-example.js';

// The README's option tables say what the options interfaces' TSDoc says: the same names, and
// where a table gives a default, the TSDoc's `@default`. A table is marked
// `<!-- options: <name>; <included>, ... -->`: <name> is an exported function (its options are its
// last parameter) or one of TYPES below, and the tables it includes hold the rest of its options
// (`texas; cache, http`: TexasOptions is texas's rows plus the cache and HTTP tables). A row of the
// table itself wins over an included one of the same name (onBehalfOf's own `maxEntries`).

/** Tables that describe a type rather than a function's options. */
const TYPES: Record<string, string> = { cache: 'SourceCacheOptions', http: 'HttpOptions' };
const ENTRY_POINTS = ['lib/index.ts', 'lib/fetch/index.ts', 'lib/opentelemetry/index.ts', 'lib/testing/texas-server.ts'];
/** What a table's default column says when there is no default to compare. */
const NO_DEFAULT = ['none', '*required*'];

export interface Row {
  name: string;
  default: string;
  /** The table the row is in, when it is included from another one. */
  table?: string;
}
export interface Table {
  name: string;
  includes: string[];
  rows: Row[];
  line: number;
}
export interface Documented {
  name: string;
  optional: boolean;
  /** The `@default` tag's text, if the TSDoc has one. */
  default?: string;
}

/** Every `<!-- options: ... -->` table of a markdown text, with its rows. */
export function optionTables(markdown: string): Table[] {
  const lines = markdown.split('\n');
  const tables: Table[] = [];
  lines.forEach((text, index) => {
    const marker = /^<!-- options: ([^;]+?)(?:;\s*(.*?))?\s*-->$/.exec(text.trim());
    if (!marker) return;
    const rows: Row[] = [];
    for (let i = index + 3; i < lines.length && lines[i]!.startsWith('|'); i++) {
      const cells = lines[i]!.split('|')
        .slice(1, -1)
        .map((cell) => cell.trim());
      rows.push({ name: cells[0]!.replace(/^`|`$/g, ''), default: cells[1] ?? '' });
    }
    const includes = marker[2]
      ? marker[2]
          .split(',')
          .map((name) => name.trim())
          .filter(Boolean)
      : [];
    tables.push({ name: marker[1]!.trim(), includes, rows, line: index + 1 });
  });
  return tables;
}

/** A default as a reader compares it: no code ticks or quotes, `process.env.X` as `X`. */
function plain(text: string): string {
  return text
    .replace(/[`'"]/g, '')
    .replace(/process\.env\./g, '')
    .trim();
}

/** Whether the TSDoc's default says what the table's does (it may go on: "X, looked up per request"). */
export function sameDefault(table: string, tsdoc: string): boolean {
  const a = plain(table);
  const b = plain(tsdoc);
  return b === a || (b.startsWith(a) && /^[\s,;(.]/.test(b.slice(a.length)));
}

/** The differences between a table (with the tables it includes) and the documented options. */
export function compare(name: string, rows: Row[], documented: Documented[]): string[] {
  const problems: string[] = [];
  const byName = new Map(documented.map((option) => [option.name, option]));
  const listed = new Set(rows.map((row) => row.name));
  for (const option of documented) if (!listed.has(option.name)) problems.push(`${name}: option \`${option.name}\` has no row`);
  for (const row of rows) {
    const where = row.table ?? name;
    const option = byName.get(row.name);
    if (!option) {
      problems.push(`${where}: row \`${row.name}\` is no option of it`);
      continue;
    }
    if (row.default === '*required*' && option.optional) problems.push(`${where}: \`${row.name}\` is optional, the table says required`);
    if (row.default !== '*required*' && !option.optional) problems.push(`${where}: \`${row.name}\` is required, the table gives "${row.default}"`);
    if (NO_DEFAULT.includes(row.default)) {
      if (option.default !== undefined) problems.push(`${where}: \`${row.name}\` says ${row.default}, the TSDoc's @default is "${option.default}"`);
    } else if (option.default === undefined) {
      problems.push(`${where}: \`${row.name}\` defaults to "${row.default}" in the table, its TSDoc has no @default`);
    } else if (!sameDefault(row.default, option.default)) {
      problems.push(`${where}: \`${row.name}\` defaults to "${row.default}" in the table, "${option.default}" in its TSDoc`);
    }
  }
  return problems;
}

/** The options of each function and type the tables name, read from lib/ with the compiler. */
function documentedOptions(names: string[]): Map<string, Documented[]> {
  const program = ts.createProgram(
    ENTRY_POINTS.map((file) => join(ROOT, file)),
    {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      strict: true,
      skipLibCheck: true,
      noEmit: true,
    },
  );
  const checker = program.getTypeChecker();
  const exported = new Map<string, ts.Symbol>();
  for (const file of ENTRY_POINTS) {
    const source = program.getSourceFile(join(ROOT, file));
    const module = source && checker.getSymbolAtLocation(source);
    if (!module) throw new Error(`${file}: not compiled`);
    for (const symbol of checker.getExportsOfModule(module)) exported.set(symbol.name, symbol);
  }
  const result = new Map<string, Documented[]>();
  for (const name of names) {
    const wanted = TYPES[name] ?? name;
    const found = exported.get(wanted);
    if (!found) throw new Error(`the README has an options table for ${name}, which no entry point exports`);
    const symbol = found.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(found) : found;
    let type: ts.Type;
    if (TYPES[name]) {
      type = checker.getDeclaredTypeOfSymbol(symbol);
    } else {
      const declaration = symbol.valueDeclaration ?? symbol.declarations![0]!;
      const signature = checker.getSignaturesOfType(checker.getTypeOfSymbolAtLocation(symbol, declaration), ts.SignatureKind.Call)[0];
      const parameter = signature?.parameters.at(-1);
      if (!parameter) throw new Error(`${name}() takes no options`);
      type = checker.getNonNullableType(checker.getTypeOfSymbolAtLocation(parameter, declaration));
    }
    result.set(
      name,
      checker.getPropertiesOfType(type).map((property) => {
        const tag = property.getJsDocTags(checker).find((t) => t.name === 'default');
        const text = tag?.text
          ?.map((part) => part.text)
          .join('')
          .trim();
        return {
          name: property.name,
          optional: (property.flags & ts.SymbolFlags.Optional) !== 0,
          ...(text !== undefined ? { default: text } : {}),
        };
      }),
    );
  }
  return result;
}

describe('README option tables against the TSDoc', function () {
  this.timeout(60_000);
  const tables = optionTables(readFileSync(join(ROOT, 'README.md'), 'utf8'));

  it('finds the tables: one per factory, and the cache and HTTP ones', () => {
    expect(tables.map((table) => table.name)).to.include.members([
      'attachToken',
      'texas',
      'clientCredentials',
      'workloadIdentity',
      'fromEnv',
      'onBehalfOf',
      'withCache',
      'cache',
      'http',
      'requireToken',
      'introspection',
      'tokenFetch',
      'instrument',
    ]);
  });

  it('list every option the TSDoc documents, no other, with its default', () => {
    const byName = new Map(tables.map((table) => [table.name, table]));
    const documented = documentedOptions(tables.map((table) => table.name));
    // A wrong row of an included table shows once, under its own table's name.
    const problems = new Set<string>();
    for (const table of tables) {
      for (const problem of problemsOf(table)) problems.add(problem);
    }
    expect([...problems]).to.deep.equal([]);

    function problemsOf(table: Table): string[] {
      const rows = new Map<string, Row>();
      for (const included of table.includes) {
        const other = byName.get(included);
        if (!other) return [`README.md:${table.line}: ${table.name} includes ${included}, which has no table`];
        for (const row of other.rows) rows.set(row.name, { ...row, table: included });
      }
      for (const row of table.rows) rows.set(row.name, row);
      return compare(table.name, [...rows.values()], documented.get(table.name)!);
    }
  });

  describe('the comparison itself (each catches what it names)', () => {
    const documented: Documented[] = [
      { name: 'endpoint', optional: true, default: 'process.env.NAIS_TOKEN_ENDPOINT' },
      { name: 'bodyFormat', optional: true, default: "'json'" },
      { name: 'source', optional: false },
    ];
    const rows: Row[] = [
      { name: 'endpoint', default: '`NAIS_TOKEN_ENDPOINT`' },
      { name: 'bodyFormat', default: '`json`' },
      { name: 'source', default: '*required*' },
    ];

    it('a table that says what the TSDoc says passes', () => {
      expect(compare('texas', rows, documented)).to.deep.equal([]);
    });

    it('a missing row, an extra row, a renamed one', () => {
      expect(compare('texas', rows.slice(1), documented)).to.deep.equal(['texas: option `endpoint` has no row']);
      expect(compare('texas', [...rows, { name: 'retryOn', default: 'none' }], documented)).to.deep.equal(['texas: row `retryOn` is no option of it']);
      expect(compare('texas', [{ name: 'tokenEndpoint', default: 'none' }, ...rows.slice(1)], documented)).to.deep.equal([
        'texas: option `endpoint` has no row',
        'texas: row `tokenEndpoint` is no option of it',
      ]);
    });

    it('a default that differs, one the TSDoc does not state, one the table denies', () => {
      expect(compare('texas', [rows[0]!, { name: 'bodyFormat', default: '`form`' }, rows[2]!], documented)).to.deep.equal([
        'texas: `bodyFormat` defaults to "`form`" in the table, "\'json\'" in its TSDoc',
      ]);
      expect(compare('texas', rows, [documented[0]!, { name: 'bodyFormat', optional: true }, documented[2]!])).to.deep.equal([
        'texas: `bodyFormat` defaults to "`json`" in the table, its TSDoc has no @default',
      ]);
      expect(compare('texas', [rows[0]!, { name: 'bodyFormat', default: 'none' }, rows[2]!], documented)).to.deep.equal([
        "texas: `bodyFormat` says none, the TSDoc's @default is \"'json'\"",
      ]);
    });

    it('required in one and optional in the other', () => {
      expect(compare('x', [{ name: 'source', default: 'none' }], [{ name: 'source', optional: false }])).to.deep.equal([
        'x: `source` is required, the table gives "none"',
      ]);
      expect(compare('x', [{ name: 'source', default: '*required*' }], [{ name: 'source', optional: true }])).to.deep.equal([
        'x: `source` is optional, the table says required',
      ]);
    });

    it('a default that the TSDoc goes on about still matches; one that only starts the same does not', () => {
      expect(sameDefault('`globalThis.fetch`', 'globalThis.fetch, looked up per request')).to.equal(true);
      expect(sameDefault('`1`', '10_000')).to.equal(false);
    });

    it('reads the marker, its includes and its rows', () => {
      const md = [
        'x',
        '<!-- options: texas; cache, http -->',
        '| option | default | meaning |',
        '|---|---|---|',
        '| `endpoint` | `E` | where |',
        '',
        '| not | a | row |',
      ].join('\n');
      expect(optionTables(md)).to.deep.equal([{ name: 'texas', includes: ['cache', 'http'], rows: [{ name: 'endpoint', default: '`E`' }], line: 2 }]);
    });
  });
});
