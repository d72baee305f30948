// Reading the project's markdown the way a renderer does, for the README specs: fenced code blocks,
// headings and their anchors, links outside code, and editing leftovers. Small and strict on
// purpose: it understands the markdown this project writes, not every dialect.

/** A fenced code block: its language (the info string's first word), its text and where it starts. */
export interface CodeBlock {
  lang: string;
  code: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The HTML comment on the line before the fence (blank lines skipped), if there is one. */
  marker?: string;
}

/** A problem found in a markdown file, with its 1-based line. */
export interface Finding {
  line: number;
  problem: string;
}

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([^\s`]*)/;

export function codeBlocks(markdown: string): CodeBlock[] {
  const lines = markdown.split('\n');
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]!);
    if (!open) continue;
    const fence = open[1]!;
    let end = i + 1;
    while (end < lines.length && !lines[end]!.trimStart().startsWith(fence)) end++;
    let before = i - 1;
    while (before >= 0 && lines[before]!.trim() === '') before--;
    const previous = before >= 0 ? lines[before]!.trim() : '';
    blocks.push({
      lang: open[2]!.toLowerCase(),
      code: lines.slice(i + 1, end).join('\n'),
      line: i + 1,
      ...(/^<!--.*-->$/.test(previous) ? { marker: previous } : {}),
    });
    i = end;
  }
  return blocks;
}

/** The lines that are prose (outside fenced code), each with its 1-based number; code lines are blanked. */
export function proseLines(markdown: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  let fence: string | undefined;
  markdown.split('\n').forEach((text, index) => {
    const open = FENCE.exec(text);
    if (fence === undefined && open) fence = open[1];
    else if (fence !== undefined && text.trimStart().startsWith(fence)) fence = undefined;
    else if (fence === undefined) out.push({ line: index + 1, text });
  });
  return out;
}

/** A heading's text as rendered: no inline code ticks, link targets or emphasis marks. */
function renderedText(heading: string): string {
  return heading
    .replace(/`[^`]*`|<[^>]+>/g, (match) => (match.startsWith('`') ? match.slice(1, -1) : ''))
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/[*]/g, '')
    .trim();
}

/** GitHub's anchor for a heading text (github-slugger): lower case, punctuation dropped, spaces to hyphens. */
export function slug(text: string): string {
  return renderedText(text)
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** Every heading's anchor, with GitHub's -1, -2 … suffixes for repeated ones. */
export function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const { text } of proseLines(markdown)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(text);
    if (!heading) continue;
    const base = slug(heading[1]!);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    out.add(count === 0 ? base : `${base}-${count}`);
  }
  return out;
}

/** Markdown links and images outside code (fenced and inline), with their targets. */
export function links(markdown: string): { line: number; target: string }[] {
  const out: { line: number; target: string }[] = [];
  for (const { line, text } of proseLines(markdown)) {
    const withoutCode = text.replace(/`[^`]*`/g, '');
    for (const match of withoutCode.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      out.push({ line, target: match[1]! });
    }
    const reference = /^\s*\[[^\]]+\]:\s*(\S+)/.exec(withoutCode);
    if (reference) out.push({ line, target: reference[1]! });
  }
  return out;
}

/** Whether a link target leaves the package (a URL with a scheme, or protocol-relative). */
export function isExternal(target: string): boolean {
  return /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//');
}

// Notes to self that an edit left behind; each one has been seen in this README before.
const NOTES_TO_SELF = [/^\s*Add to the\b/i, /\bnote to self\b/i, /\bDifferences from the merged text\b/i];

/**
 * Editing leftovers: a `-->` that closes no comment (half a comment shown as text), a comment that
 * never closes, a heading with a quote mark followed by ` (` (the start of such a half comment),
 * TODO/FIXME/XXX anywhere, and notes to self.
 */
export function leftovers(markdown: string): Finding[] {
  const findings: Finding[] = [];
  let inComment = false;
  let commentStart = 0;
  for (const { line, text } of proseLines(markdown)) {
    let rest = text.replace(/`[^`]*`/g, '');
    while (rest !== '') {
      if (inComment) {
        const close = rest.indexOf('-->');
        if (close === -1) break;
        inComment = false;
        rest = rest.slice(close + 3);
      } else {
        const open = rest.indexOf('<!--');
        const close = rest.indexOf('-->');
        if (close !== -1 && (open === -1 || close < open)) {
          findings.push({ line, problem: 'a stray "-->" outside a comment' });
          rest = rest.slice(close + 3);
        } else if (open !== -1) {
          inComment = true;
          commentStart = line;
          rest = rest.slice(open + 4);
        } else break;
      }
    }
    if (/^#{1,6}\s.*["'\u201c\u201d] \(/.test(text)) findings.push({ line, problem: 'a heading with a quote mark followed by " (" (half a comment?)' });
    for (const pattern of NOTES_TO_SELF) {
      if (pattern.test(text)) findings.push({ line, problem: `a note to self: ${text.trim().slice(0, 60)}` });
    }
  }
  if (inComment) findings.push({ line: commentStart, problem: 'a "<!--" that never closes' });
  markdown.split('\n').forEach((text, index) => {
    const word = /\b(TODO|FIXME|XXX)\b/.exec(text);
    if (word) findings.push({ line: index + 1, problem: `"${word[1]}" left in the text` });
  });
  return findings.sort((a, b) => a.line - b.line);
}
