/**
 * The result files of a suite: `<out>/results.json` (the tables, the plot list, the notes, every raw
 * record with the machine/version/command record attached) and one SVG per plot beside it. The
 * report (bench/report.ts) is built from these files alone.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { escapeXml } from './plot.js';
import { machineLine, runRecord, type RunRecord } from './machine.js';

export const RESULT_FILE = 'results.json';

export interface ResultTable {
  id: string;
  title: string;
  header: string[];
  rows: string[][];
  /** goes into the README's Performance section */
  key?: boolean;
  note?: string;
}

export interface ResultPlot {
  /** file name inside the suite's folder, ending in .svg */
  file: string;
  title: string;
  svg: string;
  key?: boolean;
}

/** What a suite's run returns. */
export interface SuiteOutput {
  title: string;
  /** the transport(s) the figures were measured over */
  transport: string;
  /** caveats a reader must see beside the figures (oversubscription, extrapolation...) */
  notes: string[];
  tables: ResultTable[];
  plots: ResultPlot[];
  records: object[];
  /** the suite's resolved options (`failures`: parts that could not run; the CLI then exits 1) */
  options: Record<string, unknown>;
  /** what to print on stdout instead of the plain tables (a suite's own formatted text) */
  text?: string;
}

export interface SuiteResultFile {
  suite: string;
  title: string;
  quick: boolean;
  run: RunRecord;
  seconds: number;
  options: Record<string, unknown>;
  notes: string[];
  tables: ResultTable[];
  plots: { file: string; title: string; key?: boolean }[];
  records: object[];
}

function writeAtomically(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

/** Put a one-line footer (the machine and the command) into the bottom-left corner of an SVG. */
export function stampSvg(svg: string, line: string): string {
  const height = Number(/<svg\b[^>]*\bheight="([\d.]+)"/.exec(svg)?.[1] ?? NaN);
  const end = svg.lastIndexOf('</svg>');
  if (!Number.isFinite(height) || end < 0) return svg;
  const footer = `<text x="6" y="${height - 3}" font-size="9" fill="#777">${escapeXml(line)}</text>\n`;
  return svg.slice(0, end) + footer + svg.slice(end);
}

/** Write the suite's JSON and SVG files into `dir`; returns the paths written. */
export function writeSuiteResult(dir: string, suite: string, quick: boolean, seconds: number, output: SuiteOutput, loadAverageAtStart?: number[]): string[] {
  mkdirSync(dir, { recursive: true });
  const run = runRecord(output.transport, process.argv, loadAverageAtStart);
  const written: string[] = [];
  for (const plot of output.plots) {
    if (!/^[\w.-]+\.svg$/.test(plot.file)) throw new Error(`plot file name '${plot.file}' must be a plain name ending in .svg`);
    // every figure carries where and how it was measured
    writeAtomically(join(dir, plot.file), stampSvg(plot.svg, `${machineLine(run.machine)}; ${run.transport}; ${run.command}`));
    written.push(join(dir, plot.file));
  }
  const file: SuiteResultFile = {
    suite, title: output.title, quick, run, seconds, options: output.options, notes: output.notes, tables: output.tables,
    plots: output.plots.map(({ file: f, title, key }) => ({ file: f, title, ...(key ? { key } : {}) })),
    // every record carries where and how it was measured (a record's own transport wins)
    records: output.records.map((r) => ({ ...r, run: { ...run, ...('transport' in r ? { transport: String((r as { transport: unknown }).transport) } : {}) } })),
  };
  writeAtomically(join(dir, RESULT_FILE), `${JSON.stringify(file, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 1)}\n`);
  written.push(join(dir, RESULT_FILE));
  return written;
}

/** Every suite result under `root` (one folder per suite), sorted in suite order, then by name. */
export function readSuiteResults(root: string, order: readonly string[]): { dir: string; result: SuiteResultFile }[] {
  if (!existsSync(root)) return [];
  const found: { dir: string; result: SuiteResultFile }[] = [];
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const file = join(root, entry.name, RESULT_FILE);
    if (!existsSync(file)) continue;
    try {
      const result = JSON.parse(readFileSync(file, 'utf8')) as SuiteResultFile;
      if (typeof result.suite === 'string' && Array.isArray(result.tables)) found.push({ dir: entry.name, result });
    } catch {
      // a half-written or foreign file: not part of the report
    }
  }
  const rank = (s: string): number => (order.includes(s) ? order.indexOf(s) : order.length);
  return found.sort((a, b) => rank(a.result.suite) - rank(b.result.suite) || a.dir.localeCompare(b.dir));
}

/** A Markdown table (pipes in cells escaped). */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  return [
    `| ${header.map(cell).join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ].join('\n');
}
