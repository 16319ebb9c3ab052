import { byIccid, submitChange } from '../support/bulk-changes.ts';
import { countBy } from '../support/e2e-stack.ts';
import {
  type BulkChangeView,
  listAll,
  type SimCall,
  type SimLine,
  sleep,
  waitUntil,
} from '../support/processes.ts';
import { type ChaosDeployment, jasperLimits, startChaosDeployment, thingSpaceLimits } from './deployment.ts';
import { between, calm, drawMix, seededRandom } from './faults.ts';
import {
  acceptedPerLine,
  allZero,
  type ChangeRecord,
  duplicates,
  type Figures,
  figureNames,
  overshoot,
  rowsLost,
} from './figures.ts';

export interface ChaosOptions {
  dialect: 'sqlite' | 'postgres';
  rounds: number;
  /** Lines per round on each carrier: one Jasper status update and one ThingSpace activation. */
  jasperLines: number;
  thingSpaceLines: number;
  /** How long a round's storm lasts at most (it ends sooner once the round's changes have ended). */
  chaosMs: number;
  /** Once the faults stop, how long a change may take to end before it counts as stuck. */
  settleMs: number;
  seed: number;
  onProgress?: (line: string) => void;
}

export interface ChaosReport {
  dialect: 'sqlite' | 'postgres';
  seed: number;
  rounds: number;
  durationMs: number;
  figures: Figures;
  /** What happened, to read beside the figures. */
  tally: {
    changes: number;
    rows: number;
    rowsSucceeded: number;
    /** Failed rows by error code: allowed (a row may fail after its retries), shown. */
    rowsFailed: Record<string, number>;
    kills: number;
    /** Fault mixes applied, by name. */
    mixes: Record<string, number>;
    tokenExpiries: number;
    carrierCalls: number;
    carrier429: number;
    carrier5xx: number;
    logins: number;
    apiRequests: number;
    /** Requests to our API that found no server (SQLite: the API dies with the worker). */
    apiUnreachable: number;
    /** Requests in the busiest second at the carrier (its call log: the figure). */
    busiestSecond: { jasper: number; thingSpace: number };
    busiestActivateMinute: number;
  };
  /** Why a figure is not zero: the first few instances of each. */
  problems: string[];
}

const terminal = new Set(['completed', 'completed_with_errors', 'failed', 'cancelled']);

/**
 * `rounds` rounds on `dialect`: each submits a Jasper status update and a ThingSpace activation on
 * fresh lines, then kills engine processes (`kill -9`) at random moments and starts them again, while
 * both simulators go through random fault mixes and ThingSpace expires its tokens, until the changes end
 * or the storm's time is up. Then the faults stop and every change must end within `settleMs`. At the
 * end the figures are computed from the API, the simulators' call logs and their lines.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const started = Date.now();
  const progress = options.onProgress ?? (() => {});
  const faultRandom = seededRandom(options.seed);
  const killRandom = seededRandom(options.seed + 1);
  const deployment = await startChaosDeployment(options.dialect);
  const submitted: Array<Pick<ChangeRecord, 'id' | 'carrier' | 'iccids'>> = [];
  const mixes = new Map<string, number>();
  const problems: string[] = [];
  let kills = 0;
  const events: Array<{ at: number; what: string }> = [];
  let tokenExpiries = 0;
  let stuckChanges = 0;
  try {
    for (let round = 0; round < options.rounds; round++) {
      const lines = await deployment.lines(
        String(8901700 + round * 10),
        options.jasperLines,
        options.thingSpaceLines,
      );
      const ids = [
        await submitChange(deployment, deployment.jasper.accountId, byIccid(lines.jasper), 'status_update', {
          targetStatus: 'active',
        }),
        await submitChange(
          deployment,
          deployment.thingSpace.accountId,
          byIccid(lines.thingSpace),
          'status_update',
          { targetStatus: 'active' },
        ),
      ];
      submitted.push(
        { id: ids[0], carrier: 'jasper', iccids: lines.jasper },
        { id: ids[1], carrier: 'thingspace', iccids: lines.thingSpace },
      );

      const storm = { over: false };
      const faults = (async () => {
        while (!storm.over) {
          const mix = drawMix(faultRandom);
          mixes.set(mix.name, (mixes.get(mix.name) ?? 0) + 1);
          await deployment.jasper.sim.setFaults(mix.faults);
          await deployment.thingSpace.sim.setFaults({ ...mix.faults, expireTokens: mix.expireTokens });
          if (mix.expireTokens) tokenExpiries += 1;
          await sleep(between(faultRandom, 1_000, 3_000));
        }
      })();
      const killer = (async () => {
        while (!storm.over) {
          await sleep(between(killRandom, 500, 3_000));
          if (storm.over) break;
          const name = deployment.engines[between(killRandom, 0, deployment.engines.length - 1)];
          await deployment.kill(name);
          kills += 1;
          events.push({ at: Date.now(), what: `killed ${name}` });
          await sleep(between(killRandom, 0, 1_000));
          await deployment.start(name);
          events.push({ at: Date.now(), what: `${name} ready` });
        }
      })();
      const deadline = Date.now() + options.chaosMs;
      while (Date.now() < deadline && !(await allEnded(deployment, ids))) await sleep(500);
      storm.over = true;
      await Promise.all([faults, killer]);

      await deployment.jasper.sim.setFaults(calm);
      await deployment.thingSpace.sim.setFaults({ ...calm, expireTokens: false });
      for (const name of deployment.engines) if (!deployment.running(name)) await deployment.start(name);
      const settled = await waitUntil(
        `round ${round + 1} to end`,
        async () => ((await allEnded(deployment, ids)) ? true : undefined),
        options.settleMs,
        500,
      ).catch(() => false);
      if (!settled) {
        for (const id of ids) {
          const view = await deployment.api<BulkChangeView>('GET', `/api/v1/bulk-changes/${id}`);
          if (terminal.has(view.body.status)) continue;
          stuckChanges += 1;
          problems.push(`stuck: ${id} still ${view.body.status} ${JSON.stringify(view.body.counts)}`);
        }
      }
      progress(`round ${round + 1}/${options.rounds}: ${kills} kills so far`);
    }
    return await measure(deployment, options, {
      started,
      submitted,
      mixes,
      kills,
      events,
      tokenExpiries,
      stuckChanges,
      problems,
    });
  } finally {
    await deployment.close();
  }
}

/** Whether every change has ended (false while the API is down: it is being restarted). */
async function allEnded(deployment: ChaosDeployment, ids: string[]): Promise<boolean> {
  for (const id of ids) {
    const view = await deployment
      .api<BulkChangeView>('GET', `/api/v1/bulk-changes/${id}`)
      // Safe to drop: the chaos loop kills the API process too, so an unanswered read only means "not
      // known to have ended yet"; the caller polls again, and a change that never ends counts as stuck.
      .catch(() => undefined);
    if (!view || !terminal.has(view.body.status)) return false;
  }
  return true;
}

async function measure(
  deployment: ChaosDeployment,
  options: ChaosOptions,
  run: {
    started: number;
    submitted: Array<Pick<ChangeRecord, 'id' | 'carrier' | 'iccids'>>;
    mixes: Map<string, number>;
    kills: number;
    /** When engine processes were killed and ready again. */
    events: Array<{ at: number; what: string }>;
    tokenExpiries: number;
    stuckChanges: number;
    problems: string[];
  },
): Promise<ChaosReport> {
  const { api, jasper, thingSpace } = deployment;
  const [jasperCalls, thingSpaceCalls] = await Promise.all([jasper.sim.calls(), thingSpace.sim.calls()]);
  const carrierState = new Map<string, string>();
  for (const line of [...(await jasper.sim.devices<SimLine>()), ...(await thingSpace.sim.devices<SimLine>())])
    carrierState.set(line.iccid, line.state);

  const problems = run.problems;
  let lost = 0;
  const rows: ChangeRecord['rows'] = [];
  for (const change of run.submitted) {
    const view = await api<BulkChangeView>('GET', `/api/v1/bulk-changes/${change.id}`);
    const record: ChangeRecord = {
      ...change,
      status: view.body.status,
      counts: view.body.counts,
      rows: await listAll(api, `/api/v1/bulk-changes/${change.id}/changes`),
    };
    rows.push(...record.rows);
    const target = change.carrier === 'jasper' ? 'activated' : 'active';
    const lostHere = terminal.has(record.status) ? rowsLost(record, carrierState, target) : 0;
    if (lostHere > 0)
      problems.push(`rows lost: ${lostHere} in ${change.id} ${JSON.stringify(record.counts)}`);
    lost += lostHere;
  }

  const duplicateCount = duplicates(jasperCalls, 'put_device') + duplicates(thingSpaceCalls, 'activate');
  if (duplicateCount > 0)
    problems.push(
      ...duplicateDetail(jasperCalls, 'put_device'),
      ...duplicateDetail(thingSpaceCalls, 'activate'),
    );

  const jasperRate = overshoot(jasperCalls, 1_000, jasperLimits.requestsPerSecond);
  const thingSpaceRate = overshoot(thingSpaceCalls, 1_000, thingSpaceLimits.requestsPerSecond);
  const activateRate = overshoot(
    thingSpaceCalls.filter((call) => call.action === 'activate'),
    60_000,
    100,
  );
  for (const [name, rate] of Object.entries({
    jasper: jasperRate,
    thingSpace: thingSpaceRate,
    activate: activateRate,
  }))
    if (rate.over > 0) {
      const windowMs = name === 'activate' ? 60_000 : 1_000;
      problems.push(
        `limit overshoot: ${name} ${rate.busiest.count} from ${rate.busiest.at}: ${windowDetail(name === 'jasper' ? jasperCalls : thingSpaceCalls, rate.busiest.at, windowMs)}`,
        `  let go by our limiter then (audit log): ${await sentDetail(deployment, run.submitted, name === 'jasper' ? 'jasper' : 'thingspace', rate.busiest.at, windowMs)}`,
        `  kills and restarts around it: ${run.events
          .filter((event) => Math.abs(event.at - Date.parse(rate.busiest.at ?? '')) < windowMs + 5_000)
          .map((event) => `${event.at - Date.parse(rate.busiest.at ?? '')} ${event.what}`)
          .join(', ')}`,
      );
    }
  for (const failure of deployment.tally.serverErrors.slice(0, 5))
    problems.push(`5xx: ${failure.method} ${failure.path} ${failure.status} ${failure.body}`);

  const figures: Figures = {
    rowsLost: lost,
    duplicates: duplicateCount,
    serverErrors: deployment.tally.serverErrors.length,
    stuckChanges: run.stuckChanges,
    limitOvershoot: jasperRate.over + thingSpaceRate.over + activateRate.over,
  };
  const allCalls = [...jasperCalls, ...thingSpaceCalls];
  return {
    dialect: options.dialect,
    seed: options.seed,
    rounds: options.rounds,
    durationMs: Date.now() - run.started,
    figures,
    tally: {
      changes: run.submitted.length,
      rows: rows.length,
      rowsSucceeded: rows.filter((row) => row.status === 'succeeded').length,
      rowsFailed: Object.fromEntries(
        countBy(
          rows.filter((row) => row.status === 'failed'),
          (row) => row.error?.code ?? 'unknown',
        ),
      ),
      kills: run.kills,
      mixes: Object.fromEntries([...run.mixes].sort()),
      tokenExpiries: run.tokenExpiries,
      carrierCalls: allCalls.length,
      carrier429: allCalls.filter((call) => call.status === 429).length,
      carrier5xx: allCalls.filter((call) => call.status >= 500).length,
      logins: thingSpaceCalls.filter((call) => call.action === 'login').length,
      apiRequests: deployment.tally.requests,
      apiUnreachable: deployment.tally.unreachable,
      busiestSecond: { jasper: jasperRate.busiest.count, thingSpace: thingSpaceRate.busiest.count },
      busiestActivateMinute: activateRate.busiest.count,
    },
    problems,
  };
}

/** The first few lines the carrier changed more than once. */
const duplicateDetail = (calls: SimCall[], action: string): string[] =>
  [...acceptedPerLine(calls, action)]
    .filter(([, count]) => count > 1)
    .slice(0, 5)
    .map(([iccid, count]) => `duplicate: ${action} accepted ${count} times for ${iccid}`);

/** The calls of the window from `at`: milliseconds after its start, action and status. */
const windowDetail = (calls: SimCall[], at: string | null, windowMs: number) => {
  const start = Date.parse(at ?? '');
  return calls
    .filter((call) => Date.parse(call.at) >= start && Date.parse(call.at) < start + windowMs)
    .map((call) => `+${Date.parse(call.at) - start} ${call.action} ${call.status}`)
    .join(', ');
};

/** Our audit log's calls around the window from `at` (each call once): when the limiter let them go. */
async function sentDetail(
  deployment: ChaosDeployment,
  submitted: Array<Pick<ChangeRecord, 'id' | 'carrier'>>,
  carrier: ChangeRecord['carrier'],
  at: string | null,
  windowMs: number,
): Promise<string> {
  const start = Date.parse(at ?? '');
  const entries = new Map<
    string,
    { at: number; action: string; httpStatus: number | null; attempt?: number }
  >();
  for (const change of submitted.filter((one) => one.carrier === carrier)) {
    const log = await listAll<{ id: string; at: number; action: string; httpStatus: number | null }>(
      deployment.api,
      `/api/v1/bulk-changes/${change.id}/log`,
    );
    for (const entry of log) entries.set(entry.id, entry);
  }
  return [...entries.values()]
    .map((entry) => ({ ...entry, at: new Date(entry.at).getTime() }))
    .filter((entry) => entry.at >= start - 300 && entry.at < start + windowMs + 300)
    .sort((a, b) => a.at - b.at)
    .map(
      (entry) => `${entry.at - start >= 0 ? '+' : ''}${entry.at - start} ${entry.action} ${entry.httpStatus}`,
    )
    .join(', ');
}

export const clean = (report: ChaosReport) => allZero(report.figures);

/** The figures as a table, then what happened. */
export function formatReport(report: ChaosReport): string {
  const { tally } = report;
  const figureLines = (Object.keys(figureNames) as Array<keyof Figures>).map(
    (key) => `  ${figureNames[key].padEnd(16)} ${String(report.figures[key]).padStart(6)}`,
  );
  return [
    `chaos on ${report.dialect}: ${report.rounds} rounds, seed ${report.seed}, ${(report.durationMs / 1000).toFixed(0)} s`,
    ...figureLines,
    `  ${tally.changes} bulk changes, ${tally.rows} rows: ${tally.rowsSucceeded} succeeded, failed ${JSON.stringify(tally.rowsFailed)}`,
    `  ${tally.kills} kill -9, ${tally.tokenExpiries} token expiries, ${tally.logins} ThingSpace logins`,
    `  carrier calls ${tally.carrierCalls} (429: ${tally.carrier429}, 5xx: ${tally.carrier5xx}); busiest second: Jasper ${tally.busiestSecond.jasper}/${jasperLimits.requestsPerSecond}, ThingSpace ${tally.busiestSecond.thingSpace}/${thingSpaceLimits.requestsPerSecond}; activate requests in the busiest minute ${tally.busiestActivateMinute}/100`,
    `  API requests ${tally.apiRequests} (${tally.apiUnreachable} found no server)`,
    `  fault mixes: ${Object.entries(tally.mixes)
      .map(([name, count]) => `${name} ×${count}`)
      .join(', ')}`,
  ].join('\n');
}
