// The public API report: @microsoft/api-extractor over the built declarations of every entry in
// package.json's `exports`, one report per entry under etc/. A change of the exported surface (a
// rename, a widened type, a new optional field) shows in review as a diff of these files, and the
// package spec `api-report.spec.ts` fails while a report differs from the build.
//
//   npm run api:update      build, then rewrite the reports (commit them with the change)
import { Extractor, ExtractorConfig, ExtractorLogLevel, type ExtractorMessage } from '@microsoft/api-extractor';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');

/** One entry of the package and the report that describes it. */
export interface ApiReport {
  /** The subpath, as in package.json's `exports` (`.`, `./testing`, ...). */
  entry: string;
  /** The report's file name under etc/. */
  file: string;
  /** False when the build's surface differs from the committed report. */
  matches: boolean;
  /** The report the build gives, as text. */
  actual: string;
  /** Warnings and errors api-extractor reported (an undocumented export, a forgotten export, ...). */
  problems: string[];
}

interface Manifest {
  name: string;
  exports: Record<string, string | { import?: { types?: string } }>;
}

/** The entries with declarations: every `exports` subpath but `./package.json`. */
export function entries(): { entry: string; types: string; file: string }[] {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Manifest;
  return Object.entries(manifest.exports).flatMap(([entry, target]) => {
    const types = typeof target === 'object' ? target.import?.types : undefined;
    if (types === undefined) return [];
    const suffix = entry === '.' ? '' : `-${entry.slice(2).replaceAll('/', '-')}`;
    return [{ entry, types: join(root, types), file: `${manifest.name}${suffix}.api.md` }];
  });
}

/**
 * Runs api-extractor for each entry. With `update`, rewrites etc/<name>.api.md; without, writes the
 * build's report to a temporary folder and compares. Needs `npm run build` first.
 */
export function apiReports({ update = false } = {}): ApiReport[] {
  const temp = mkdtempSync(join(tmpdir(), 'axios-m2m-api-'));
  try {
    return entries().map(({ entry, types, file }) => {
      if (!existsSync(types)) throw new Error(`${types} is missing: run npm run build first`);
      const config = ExtractorConfig.prepare({
        configObjectFullPath: join(root, 'etc', 'api-extractor.json'),
        packageJsonFullPath: join(root, 'package.json'),
        configObject: {
          projectFolder: root,
          mainEntryPointFilePath: types,
          bundledPackages: [],
          compiler: {
            overrideTsconfig: {
              compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2023'], types: ['node'], strict: true, skipLibCheck: true },
              files: [types],
            },
          },
          apiReport: { enabled: true, reportFileName: file, reportFolder: join(root, 'etc'), reportTempFolder: temp },
          docModel: { enabled: false },
          dtsRollup: { enabled: false },
          tsdocMetadata: { enabled: false },
          messages: {
            compilerMessageReporting: { default: { logLevel: ExtractorLogLevel.Warning } },
            extractorMessageReporting: {
              default: { logLevel: ExtractorLogLevel.Warning },
              // The package marks nothing @public/@beta: everything it exports is public.
              'ae-missing-release-tag': { logLevel: ExtractorLogLevel.None },
              // Kept in the report as "(undocumented)", and reported here: every export has TSDoc.
              'ae-undocumented': { logLevel: ExtractorLogLevel.Warning, addToApiReportFile: false },
            },
            tsdocMessageReporting: { default: { logLevel: ExtractorLogLevel.Warning } },
          },
        },
      });
      const problems: string[] = [];
      const result = Extractor.invoke(config, {
        localBuild: update,
        showVerboseMessages: false,
        messageCallback(message: ExtractorMessage) {
          if (message.logLevel === ExtractorLogLevel.Warning || message.logLevel === ExtractorLogLevel.Error) {
            const where = message.sourceFilePath ? ` (${message.sourceFilePath.replace(`${root}/`, '')}:${message.sourceFileLine ?? 0})` : '';
            problems.push(`${message.messageId}: ${message.text}${where}`);
          }
          message.handled = true;
        },
      });
      const actual = readFileSync(update ? join(root, 'etc', file) : join(temp, file), 'utf8');
      return { entry, file, matches: !result.apiReportChanged, actual, problems };
    });
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const update = process.argv.includes('--update');
  let failed = false;
  const reports = apiReports({ update });
  // For the spec, which runs this as a child process (so that the typecheck of spec/ never needs
  // api-extractor's types): the reports as JSON, nothing else on stdout.
  if (process.argv.includes('--json')) {
    process.stdout.write(JSON.stringify(reports));
    process.exit(0);
  }
  for (const report of reports) {
    for (const problem of report.problems) console.warn(`${report.entry}: ${problem}`);
    if (update) console.log(`etc/${report.file}: written (${report.entry})`);
    else if (!report.matches) {
      failed = true;
      console.error(`etc/${report.file} differs from the build of ${report.entry}: review the change, then npm run api:update`);
    }
  }
  if (failed) process.exitCode = 1;
}
