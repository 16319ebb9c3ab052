/** What a figure is compared to, and whether it met its target. */
export type Verdict = 'met' | 'missed' | 'info' | 'not_available' | 'skipped' | 'error';

export interface Bound {
  name: string;
  value: number | null;
  unit: string;
}

export interface Figure {
  name: string;
  value: number | null;
  unit: string;
  bound?: Bound;
  /** value ÷ bound (or the figure's own ratio, e.g. achieved ÷ configured rate). */
  ratio?: number | null;
  /** The target in words, e.g. "ratio ≥ 0.50". */
  target?: string;
  verdict: Verdict;
  /** For a miss: what limits it (measured evidence and where in the code). */
  limitedBy?: string;
}

export type ScenarioStatus = 'completed' | 'capped' | 'not_available' | 'skipped' | 'error' | 'timeout';

export interface ScenarioResult {
  scenario: string;
  title: string;
  status: ScenarioStatus;
  ranAt: string;
  durationMs: number;
  figures: Figure[];
  /** Raw measurements behind the figures. */
  details: Record<string, unknown>;
  notes: string[];
  /** The machine's load average (1, 5, 15 min) when the scenario started and ended: others' work shows here. */
  load?: { before: number[]; after: number[] };
}

/** A figure with a target of "at least `min`" on `ratio` (or on the value when there is no ratio). */
export function atLeast(figure: Omit<Figure, 'verdict' | 'target'>, min: number, label?: string): Figure {
  const measured = figure.ratio !== undefined ? figure.ratio : figure.value;
  return {
    ...figure,
    target: label ?? `${figure.ratio !== undefined ? 'ratio' : 'value'} ≥ ${min}`,
    verdict: measured === null || measured === undefined ? 'error' : measured >= min ? 'met' : 'missed',
  };
}

/** A figure with a target of "below `max`" on its value. */
export function below(figure: Omit<Figure, 'verdict' | 'target'>, max: number, label?: string): Figure {
  return {
    ...figure,
    target: label ?? `< ${max} ${figure.unit}`,
    verdict: figure.value === null ? 'error' : figure.value < max ? 'met' : 'missed',
  };
}

/** A figure with a target of "exactly `wanted`". */
export function exactly(figure: Omit<Figure, 'verdict' | 'target'>, wanted: number, label?: string): Figure {
  return {
    ...figure,
    target: label ?? `= ${wanted}`,
    verdict: figure.value === null ? 'error' : figure.value === wanted ? 'met' : 'missed',
  };
}

export const info = (figure: Omit<Figure, 'verdict'>): Figure => ({ ...figure, verdict: 'info' });

/** A scenario that could not run here (no PostgreSQL, say), reported as skipped with the reason. */
export function skippedWithout(scenario: string, title: string, reason: string): ScenarioResult {
  return {
    scenario,
    title,
    status: 'skipped',
    ranAt: new Date().toISOString(),
    durationMs: 0,
    figures: [{ name: title, value: null, unit: '', verdict: 'skipped', limitedBy: reason }],
    details: {},
    notes: [],
  };
}

export function round(value: number | null | undefined, digits = 2): number | null {
  if (value === null || value === undefined || !Number.isFinite(value)) return null;
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

export const ratioOf = (value: number | null, bound: number | null): number | null =>
  value === null || bound === null || bound === 0 ? null : round(value / bound, 3);

/** Nearest-rank percentile of a sample. */
export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

const formatNumber = (value: number | null | undefined): string => {
  if (value === null || value === undefined) return '—';
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(value === Math.round(value) ? 0 : 2);
};

const verdictText: Record<Verdict, string> = {
  met: 'met',
  missed: 'MISSED',
  info: '',
  not_available: 'not available',
  skipped: 'skipped',
  error: 'ERROR',
};

/** One line per figure: scenario, figure, value, bound, ratio, target, verdict. */
export function tableRows(results: ScenarioResult[]): string[][] {
  const rows: string[][] = [];
  for (const result of results) {
    if (result.figures.length === 0) {
      rows.push([result.scenario, result.status, '', '', '', '', result.notes[0] ?? result.status]);
      continue;
    }
    for (const figure of result.figures) {
      rows.push([
        result.scenario,
        figure.name,
        figure.value === null && figure.verdict !== 'info'
          ? '—'
          : `${formatNumber(figure.value)} ${figure.unit}`,
        figure.bound ? `${formatNumber(figure.bound.value)} ${figure.bound.unit} (${figure.bound.name})` : '',
        figure.ratio === undefined ? '' : formatNumber(figure.ratio),
        figure.target ?? '',
        figure.verdict === 'not_available' || figure.verdict === 'skipped'
          ? `${verdictText[figure.verdict]}: ${figure.limitedBy ?? ''}`.trim()
          : verdictText[figure.verdict],
      ]);
    }
  }
  return rows;
}

export const tableHeader = ['scenario', 'figure', 'value', 'bound', 'ratio', 'target', 'verdict'];

/** A plain-text table for the terminal. */
export function textTable(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (cell ?? '').padEnd(widths[column]))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

/** The same table in Markdown. */
export function markdownTable(header: string[], rows: string[][]): string {
  const escapeCell = (cell: string) => cell.replaceAll('|', '\\|');
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.map(escapeCell).join(' | ')} |`),
  ].join('\n');
}

/** Progress lines go to stderr, so stdout stays the table. */
export function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}
