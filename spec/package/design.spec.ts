import { expect } from 'chai';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..', '..');
const lib = join(root, 'lib');

// docs/design.md's diagram, row by row from the top: a room imports only from the rows below its
// own (and from itself). `opentelemetry` and `cli` sit beside the rows: nothing imports them, but
// for `bin`, the process wiring that runs the CLI.
const ROWS: readonly (readonly string[])[] = [
  ['interceptor', 'fetch', 'sdk', 'inbound'],
  ['request-policy', 'sources'],
  ['cache', 'http', 'context'],
  ['core'],
  ['errors', 'events', 'types', 'options'],
];
/** The leaves' row: they may import each other. */
const LEAVES = ROWS.length - 1;
const BESIDE = ['opentelemetry', 'cli', 'bin', 'index', 'testing', 'vendor'];

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** A file's room: its folder under lib/, or the file's own name for lib/<name>.ts. */
const roomOf = (path: string) =>
  relative(lib, path)
    .split('/')[0]!
    .replace(/\.(d\.)?ts$/, '');

function imports(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  return [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((m) => resolve(dirname(path), m[1]!.replace(/\.js$/, '.ts')));
}

describe('the rooms of lib/ (docs/design.md)', () => {
  const rowOf = new Map(ROWS.flatMap((rooms, row) => rooms.map((room) => [room, row] as const)));

  it('names every room of lib/ in the design', () => {
    const design = readFileSync(join(root, 'docs', 'design.md'), 'utf8');
    const rooms = [...new Set(files(lib).map(roomOf))];
    const unplaced = rooms.filter((room) => !rowOf.has(room) && !BESIDE.includes(room));
    expect(unplaced, 'a new room: place it in docs/design.md and in this spec').to.deep.equal([]);
    for (const room of ROWS.flat()) expect(design, room).to.include(room.includes('.') || rowOf.get(room) === LEAVES ? `${room}.ts` : `${room}/`);
  });

  it('points every import down the rows, and nothing imports opentelemetry/ or the CLI but its bin', () => {
    const wrong: string[] = [];
    for (const file of files(lib)) {
      const from = roomOf(file);
      for (const target of imports(file)) {
        const to = roomOf(target);
        if (to === from || target.startsWith(join(root, 'node_modules'))) continue;
        const ok = BESIDE.includes(from)
          ? to !== 'opentelemetry' && (to !== 'cli' || from === 'bin')
          : rowOf.has(to) && (rowOf.get(to)! > rowOf.get(from)! || (rowOf.get(to) === LEAVES && rowOf.get(from) === LEAVES));
        if (!ok) wrong.push(`${relative(root, file)} -> ${relative(root, target)}`);
      }
    }
    expect(wrong).to.deep.equal([]);
  });
});
