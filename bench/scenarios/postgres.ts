/**
 * 6. postgres: scenarios 2 (engine) and 3 (limits) with the server on PostgreSQL, when `DATABASE_URL` is
 * set. Each measurement gets a fresh database on that server (created by the e2e helpers, dropped after).
 * The engine is compared to the bounds measured by the engine scenario of the same run (they do not
 * involve the database); run alone, this scenario measures them itself.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import {
  type BaselineResult,
  type CeilingResult,
  measureBaseline,
  measureCeiling,
  measureEngine,
} from '../lib/engine-case.ts';
import { measureLimits } from '../lib/limits-case.ts';
import { type Figure, type ScenarioResult, skippedWithout } from '../lib/report.ts';
import type { ScenarioContext } from '../lib/run-scenario.ts';
import { benchScale, scaled, secondsFromEnv } from '../lib/scale.ts';
import { engineConcurrency, engineFigures } from './engine.ts';
import { limitsFigures, limitsSetup } from './limits.ts';

export async function run(context: ScenarioContext): Promise<ScenarioResult> {
  const started = performance.now();
  const url = process.env.DATABASE_URL;
  if (!url) return skippedWithout('postgres', 'engine and limits on PostgreSQL', 'DATABASE_URL is not set');
  // The e2e helpers create (and drop) a fresh database on the server named by TEST_DATABASE_URL.
  process.env.TEST_DATABASE_URL = url;
  const serverVersion = await postgresVersion(url);
  const rows = scaled(100_000);
  const bounds = await engineBounds(rows);
  const engine = await measureEngine({
    dialect: 'postgres',
    rows,
    concurrency: engineConcurrency,
    capS: secondsFromEnv('BENCH_PG_ENGINE_CAP_S', 120),
    profileDir: context.profileDir && path.join(context.profileDir, 'engine'),
  });
  const limits = await measureLimits({
    dialect: 'postgres',
    rows: scaled(5_000),
    ...limitsSetup,
    capS: secondsFromEnv('BENCH_LIMITS_CAP_S', 180),
    profileDir: context.profileDir && path.join(context.profileDir, 'limits'),
  });
  const prefixed = (prefix: string, figures: Figure[]) =>
    figures.map((figure) => ({ ...figure, name: `${prefix}: ${figure.name}` }));
  return {
    scenario: 'postgres',
    title: 'engine and limits on PostgreSQL',
    status: engine.final && limits.final ? 'completed' : 'capped',
    ranAt: new Date().toISOString(),
    durationMs: Math.round(performance.now() - started),
    figures: [
      ...prefixed('engine', engineFigures(engine, bounds.ceiling, bounds.baseline)),
      ...prefixed('limits', limitsFigures(limits)),
    ],
    details: {
      scale: benchScale,
      serverVersion,
      bounds: { ...bounds, measuredBy: bounds.measuredBy },
      engine,
      limits,
    },
    notes: [engine.note, limits.note].filter((note): note is string => note !== undefined),
  };
}

async function engineBounds(
  rows: number,
): Promise<{ ceiling: CeilingResult; baseline: BaselineResult; measuredBy: string }> {
  const shared = process.env.BENCH_RUN_DIR && path.join(process.env.BENCH_RUN_DIR, 'engine-bounds.json');
  if (shared && existsSync(shared)) {
    const bounds = JSON.parse(readFileSync(shared, 'utf8')) as {
      ceiling: CeilingResult;
      baseline: BaselineResult;
    };
    if (bounds.ceiling.requests === rows) return { ...bounds, measuredBy: 'the engine scenario of this run' };
  }
  return {
    ceiling: await measureCeiling(rows, engineConcurrency),
    baseline: await measureBaseline(rows, secondsFromEnv('BENCH_BASELINE_CAP_S', 20)),
    measuredBy: 'this scenario',
  };
}

async function postgresVersion(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const result = await client.query<{ server_version: string }>('SHOW server_version');
    return result.rows[0].server_version;
  } finally {
    await client.end();
  }
}
