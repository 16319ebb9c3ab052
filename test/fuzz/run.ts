import fc from 'fast-check';
import { Agent } from 'undici';
import { type Answer, exchange, shapeProblem } from './exchange.ts';
import { coveredRoutes, type FuzzRequest, fuzzRequests } from './routes.ts';
import { startFuzzTarget } from './target.ts';

/** Counts of one route's answers. */
export interface RouteCounts {
  requests: number;
  s2xx: number;
  s3xx: number;
  s4xx: number;
  s5xx: number;
  /** 502 BILLING_UNAVAILABLE: the billing system (a simulator here) refused a call; by design, not a fault. */
  upstream: number;
  /** No answer at all (timeout, connection dropped without one). */
  noAnswer: number;
  /** Error answers outside the documented shape. */
  shape: number;
}

/** A request that broke a promise, kept to be printed and replayed. */
export interface Failure {
  kind: '5xx' | 'no answer' | 'shape';
  route: string;
  request: {
    method: string;
    target: string;
    headers: Record<string, string>;
    contentType?: string;
    body: string;
  };
  answer: { status: number; body: string; failure?: string };
}

export interface FuzzReport {
  dialect: 'sqlite' | 'postgres';
  seed: number;
  inputs: number;
  durationMs: number;
  routes: Map<string, RouteCounts>;
  statuses: Map<number, number>;
  failures: Failure[];
  /** Routes the app serves that no generator covers. */
  uncovered: string[];
}

const BATCH = 200;
const MAX_FAILURES_KEPT = 20;

const emptyCounts = (): RouteCounts => ({
  requests: 0,
  s2xx: 0,
  s3xx: 0,
  s4xx: 0,
  s5xx: 0,
  upstream: 0,
  noAnswer: 0,
  shape: 0,
});

/** The one 5xx the API documents for bad input's sake: an upstream billing failure (docs/errors.md). */
const isUpstreamFailure = (answer: Answer) =>
  answer.status === 502 && answer.body.includes('"code":"BILLING_UNAVAILABLE"');

/**
 * Generates `inputs` requests (fast-check, from `seed`) across every route, content type and kind of
 * malformation, sends them to a real service on `dialect` over HTTP, and counts the answers.
 */
export async function runFuzz(options: {
  dialect: 'sqlite' | 'postgres';
  inputs: number;
  seed: number;
  concurrency?: number;
  onProgress?: (done: number) => void;
}): Promise<FuzzReport> {
  const started = Date.now();
  const target = await startFuzzTarget(options.dialect);
  const dispatcher = new Agent({ connections: options.concurrency ?? 4 });
  const report: FuzzReport = {
    dialect: options.dialect,
    seed: options.seed,
    inputs: 0,
    durationMs: 0,
    routes: new Map(),
    statuses: new Map(),
    failures: [],
    uncovered: uncoveredRoutes(
      target.test.service.app!.printRoutes({ commonPrefix: false }),
      coveredRoutes(target.context),
    ),
  };
  try {
    for (let batch = 0; report.inputs < options.inputs; batch++) {
      // Requests may sign the portal out or revoke its key's session: a fresh one each batch.
      await target.refreshPortalSession();
      const size = Math.min(BATCH, options.inputs - report.inputs);
      const requests = fc.sample(fuzzRequests(target.context), { numRuns: size, seed: options.seed + batch });
      let next = 0;
      const lane = async () => {
        while (next < requests.length) {
          const item = requests[next++];
          record(report, item, await exchange(target.context.url, item, dispatcher));
        }
      };
      await Promise.all(Array.from({ length: options.concurrency ?? 4 }, lane));
      options.onProgress?.(report.inputs);
    }
  } finally {
    await dispatcher.close();
    await target.stop();
  }
  report.durationMs = Date.now() - started;
  return report;
}

function record(report: FuzzReport, item: FuzzRequest, answer: Answer): void {
  report.inputs += 1;
  const counts = report.routes.get(item.route) ?? emptyCounts();
  report.routes.set(item.route, counts);
  counts.requests += 1;
  report.statuses.set(answer.status, (report.statuses.get(answer.status) ?? 0) + 1);
  let kind: Failure['kind'] | undefined;
  if (answer.status === 0) {
    counts.noAnswer += 1;
    kind = 'no answer';
  } else if (isUpstreamFailure(answer)) counts.upstream += 1;
  else if (answer.status >= 500) {
    counts.s5xx += 1;
    kind = '5xx';
  } else if (answer.status >= 400) counts.s4xx += 1;
  else if (answer.status >= 300) counts.s3xx += 1;
  else counts.s2xx += 1;
  const problem = kind ? undefined : shapeProblem(item, answer);
  if (problem) {
    counts.shape += 1;
    kind = 'shape';
  }
  if (kind && report.failures.length < MAX_FAILURES_KEPT) {
    report.failures.push({
      kind,
      route: item.route,
      request: {
        method: item.method,
        target: item.target.slice(0, 300),
        headers: item.headers,
        contentType: item.body?.contentType,
        body: (item.raw ?? item.body?.bytes ?? Buffer.alloc(0)).toString('latin1').slice(0, 600),
      },
      answer: {
        status: answer.status,
        body: (problem ?? answer.body).slice(0, 400),
        failure: answer.failure,
      },
    });
  }
}

/**
 * The app's routes (from Fastify's route tree) that no generator covers: every route must be fuzzed.
 * HEAD routes Fastify adds to every GET, and the API docs' static files, are covered by their GETs.
 */
export function uncoveredRoutes(tree: string, covered: Set<string>): string[] {
  const stack: string[] = [];
  const routes: string[] = [];
  for (const line of tree.split('\n')) {
    const match = /^([│\s]*)[└├]── (\S+)(?: \(([^)]*)\))?/.exec(line);
    if (!match) continue;
    const depth = match[1].length / 4;
    stack.length = depth;
    stack.push(match[2]);
    // A node that goes on a sibling's static part (`drifts` → `.csv` beside `drifts`) is not a new segment.
    const path = `/${stack.join('/')}`.replace(/\/+/g, '/').replace(/\/\./g, '.');
    for (const method of (match[3] ?? '').split(', ').filter((name) => name && name !== 'HEAD')) {
      routes.push(`${method} ${path.length > 1 ? path.replace(/\/$/, '') : path}`);
    }
  }
  const known = (route: string) =>
    covered.has(route) || (route.startsWith('GET /api/docs/') && covered.has('GET /api/docs/:file'));
  return [...new Set(routes)].filter((route) => !known(route));
}

/** The report as a table: one line per route, then the totals. */
export function formatReport(report: FuzzReport): string {
  const header = ['route', 'requests', '2xx', '3xx', '4xx', '5xx', '502 billing', 'no answer', 'bad shape'];
  const cells = (c: RouteCounts) =>
    [c.requests, c.s2xx, c.s3xx, c.s4xx, c.s5xx, c.upstream, c.noAnswer, c.shape].map(String);
  const rows = [...report.routes.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([route, counts]) => [route, ...cells(counts)]);
  rows.push(['all routes', ...cells(totals(report))]);
  const widths = header.map((title, index) =>
    Math.max(title.length, ...rows.map((row) => row[index].length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, index) => (index === 0 ? cell.padEnd(widths[index]) : cell.padStart(widths[index])))
      .join('  ');
  const statuses = [...report.statuses.entries()]
    .sort(([a], [b]) => a - b)
    .map(([status, count]) => `${status === 0 ? 'none' : status}: ${count}`)
    .join(', ');
  return [
    `fuzz on ${report.dialect}: ${report.inputs} inputs, seed ${report.seed}, ${(report.durationMs / 1000).toFixed(1)} s`,
    line(header),
    ...rows.slice(0, -1).map(line),
    line(rows.at(-1)!),
    `statuses: ${statuses}`,
    `routes not covered: ${report.uncovered.length ? report.uncovered.join(', ') : 'none'}`,
  ].join('\n');
}

export function totals(report: FuzzReport): RouteCounts {
  const total = emptyCounts();
  for (const counts of report.routes.values()) {
    for (const key of Object.keys(total) as Array<keyof RouteCounts>) total[key] += counts[key];
  }
  return total;
}

/** Whether the run kept every promise: no 5xx, an answer to everything, the documented shape, every route. */
export const clean = (report: FuzzReport) => {
  const total = totals(report);
  return total.s5xx === 0 && total.noAnswer === 0 && total.shape === 0 && report.uncovered.length === 0;
};
