/**
 * 1. ingest: a 1,000,000-row status-update CSV posted to the API → time until `201`, rows/s and the
 * server's peak RSS. Bound: the same rows inserted by a bare `node:sqlite` loop (bench/lib/bare-insert.ts),
 * in a fresh process of the same run. Then the XLSX round trip: the change's results downloaded as
 * `results.xlsx`, and the same rows uploaded as an .xlsx. Last, the lines exported for editing
 * (ADR 0059), as CSV and XLSX, each posted back unedited. Every phase runs in a server process of its
 * own ({@link inFreshServer}): each peak RSS is that phase's, not the heap and page cache the earlier
 * phases left behind.
 */
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { request } from 'undici';
import { XLSX_CONTENT_TYPE } from '../../src/bulk-changes/upload-input.ts';
import { runBenchChild } from '../lib/children.ts';
import { codeRef } from '../lib/code-ref.ts';
import { ProcessSampler } from '../lib/proc.ts';
import {
  atLeast,
  below,
  type Figure,
  info,
  log,
  ratioOf,
  round,
  type ScenarioResult,
} from '../lib/report.ts';
import type { ScenarioContext } from '../lib/run-scenario.ts';
import { benchScale, scaled, secondsFromEnv } from '../lib/scale.ts';
import type { BenchStack } from '../lib/stack.ts';
import {
  createSeededAccount,
  onCleanup,
  postCsv,
  startBenchStack,
  writeStatusCsv,
  writeStatusXlsx,
} from '../lib/stack.ts';

const RSS_LIMIT_MB = 400;

export async function run(context: ScenarioContext): Promise<ScenarioResult> {
  const started = performance.now();
  const rows = scaled(1_000_000);
  const capMs = secondsFromEnv('BENCH_INGEST_CAP_S', 300) * 1000;
  const work = mkdtempSync(path.join(tmpdir(), 'bulkchange-bench-ingest-'));
  onCleanup(async () => rmSync(work, { recursive: true, force: true }));
  const notes: string[] = [];

  log(`ingest: bare node:sqlite insert of ${rows} rows (fresh process)`);
  const bare = await runBenchChild<{ rows: number; elapsedMs: number; rowsPerSecond: number; cpuMs: number }>(
    'bare-insert.ts',
    [work, String(rows)],
    180_000,
  );
  rmSync(path.join(work, 'bare.db'), { force: true });
  log(`ingest: bare insert ${bare.result.rowsPerSecond} rows/s`);

  const stack = await startBenchStack({ dialect: 'sqlite', profileDir: context.profileDir });
  const { accountId, iccids, seedMs } = await createSeededAccount(stack, {
    limits: {},
    count: rows,
    prefix: '8901777',
    simulatorLines: 0,
  });
  log(`ingest: ${rows} inventory lines inserted in ${seedMs} ms`);
  const csv = path.join(work, 'status-update.csv');
  const csvBytes = await writeStatusCsv(csv, iccids, 'active');

  log(`ingest: POST ${rows}-row CSV (${(csvBytes / 1e6).toFixed(1)} MB), cap ${capMs / 1000} s`);
  // Scheduled a day ahead: the intake does the same work, and the engine stays off the 1,000,000 rows
  // afterwards (this scenario measures the intake only).
  const scheduledFor = new Date(Date.now() + 86_400_000).toISOString();
  const memory = await inFreshServer(stack, notes, () =>
    postCsv(
      stack,
      csv,
      { carrierAccountId: accountId, changeType: 'status_update', scheduledFor },
      capMs,
    ).catch((error: Error) => error),
  );
  const post = memory.value instanceof Error ? undefined : memory.value;
  const failure = memory.value instanceof Error ? memory.value.message : undefined;
  const serverCpuMs = memory.cpuMs;
  const elapsedMs = post?.elapsedMs ?? performance.now() - started;
  const created = post?.status === 201;
  const total = created ? Number((post!.body.counts as Record<string, number>)?.total) : 0;
  if (!created) {
    notes.push(
      failure
        ? `no answer within the cap (${capMs / 1000} s): ${failure}`
        : `answered ${post?.status}: ${JSON.stringify(post?.body).slice(0, 300)}`,
    );
  } else if (total !== rows) {
    notes.push(`the bulk change holds ${total} rows, not ${rows}`);
  }
  log(
    `ingest: ${post?.status ?? 'no answer'} after ${Math.round(elapsedMs)} ms, peak RSS ${round(memory.peakRssMb, 0)} MB`,
  );

  const rowsPerSecond = created ? round((rows / elapsedMs) * 1000, 0) : null;
  const coresBusy = round(serverCpuMs / elapsedMs, 2);
  const rateLimitedBy =
    `the server's one thread is busy for the whole request (${coresBusy} cores): the file is parsed as it arrives ` +
    `(${codeRef('src/bulk-changes/csv-input.ts', 'async function* readBatches')}), each batch of rows is checked against ` +
    `the inventory (${codeRef('src/bulk-changes/intake.ts', 'export async function validateRows')}) and written as ` +
    `multi-VALUES statements built by Kysely, each row with a fresh random id ` +
    `(${codeRef('src/bulk-changes/bulk-changes-repository.ts', 'async insertDeviceChanges')}); ` +
    'breakdown in bench/results/profiles/ingest-server.txt';
  const rssLimitedBy =
    `the intake holds one batch at a time (${codeRef('src/bulk-changes/csv-input.ts', 'export const ROW_BATCH_SIZE')}); ` +
    `the rest is the heap's garbage between collections and SQLite's page cache ` +
    `(${codeRef('src/db/sqlite-dialect.ts', 'PRAGMA cache_size')}); ` +
    'live heap per stage in bench/results/profiles/ingest-memory.txt';
  const figures: Figure[] = [
    info({ name: 'time to 201', value: created ? round(elapsedMs / 1000, 1) : null, unit: 's' }),
    atLeast(
      {
        name: 'ingest rate',
        value: rowsPerSecond,
        unit: 'rows/s',
        bound: { name: 'bare node:sqlite insert', value: bare.result.rowsPerSecond, unit: 'rows/s' },
        ratio: ratioOf(rowsPerSecond, bare.result.rowsPerSecond),
      },
      0.5,
      'ratio ≥ 0.50',
    ),
    below(
      { name: 'peak server RSS', value: round(memory.peakRssMb, 0), unit: 'MB' },
      RSS_LIMIT_MB,
      `< ${RSS_LIMIT_MB} MB`,
    ),
    info({
      name: 'server CPU per row',
      value: created ? round(serverCpuMs / rows, 3) : null,
      unit: 'ms',
    }),
  ];
  const [, rate, rss] = figures;
  if (rate.verdict !== 'met') rate.limitedBy = created ? rateLimitedBy : notes[0];
  if (rss.verdict !== 'met') rss.limitedBy = rssLimitedBy;
  const xlsx = created
    ? await xlsxRoundTrip(stack, {
        bulkChangeId: String(post!.body.id),
        query: { carrierAccountId: accountId, changeType: 'status_update', scheduledFor },
        iccids,
        work,
        capMs,
      })
    : undefined;
  if (xlsx) {
    figures.push(...xlsx.figures);
    notes.push(...xlsx.notes);
  }
  const exported = await exportForEditing(stack, { accountId, rows, work, capMs });
  figures.push(...exported.figures);
  notes.push(...exported.notes);
  return {
    scenario: 'ingest',
    title: `${rows.toLocaleString('en-US')}-row status-update CSV → 201`,
    status: created ? 'completed' : 'capped',
    ranAt: new Date().toISOString(),
    durationMs: Math.round(performance.now() - started),
    figures,
    details: {
      rows,
      scale: benchScale,
      csvBytes,
      inventorySeedMs: seedMs,
      httpStatus: post?.status ?? null,
      elapsedMs: Math.round(elapsedMs),
      serverCpuMs: Math.round(serverCpuMs),
      serverCoresBusy: coresBusy,
      serverRestartMs: Math.round(memory.restartMs),
      serverRssBeforeMb: round(memory.rssBeforeMb, 0),
      serverPeakRssMb: round(memory.peakRssMb, 0),
      rssTimelineMb: thin(memory.samples),
      bareInsert: bare.result,
      xlsx: xlsx?.details ?? null,
      exportForEditing: exported.details,
    },
    notes,
  };
}

/**
 * The XLSX round trip of the rows just taken: `results.xlsx` of the bulk change (streamed by
 * WorkbookWriter), then, the bulk change cancelled so its lines are free, the same rows as an .xlsx
 * (shared strings, as a spreadsheet saves them) posted like the CSV.
 */
async function xlsxRoundTrip(
  stack: BenchStack,
  options: {
    bulkChangeId: string;
    query: Record<string, string>;
    iccids: string[];
    work: string;
    capMs: number;
  },
): Promise<{ figures: Figure[]; notes: string[]; details: Record<string, unknown> }> {
  const notes: string[] = [];
  const rows = options.iccids.length;
  const authorization = `Bearer ${stack.adminKey}`;

  log(`ingest: GET results.xlsx of the ${rows} rows`);
  const results = `${options.work}/results.xlsx`;
  const download = await inFreshServer(stack, notes, async () => {
    const response = await request(`${stack.url}/api/v1/bulk-changes/${options.bulkChangeId}/results.xlsx`, {
      headers: { authorization },
      headersTimeout: options.capMs,
      bodyTimeout: options.capMs,
    });
    await pipeline(response.body, createWriteStream(results));
    return response.statusCode;
  });
  const downloadMs = download.ms;
  const resultsBytes = statSync(results).size;
  if (download.value !== 200) notes.push(`results.xlsx answered ${download.value}`);
  log(
    `ingest: results.xlsx ${(resultsBytes / 1e6).toFixed(1)} MB in ${Math.round(downloadMs)} ms, peak RSS ${round(download.peakRssMb, 0)} MB`,
  );

  const cancel = await request(`${stack.url}/api/v1/bulk-changes/${options.bulkChangeId}/cancel`, {
    method: 'POST',
    headers: { authorization },
    headersTimeout: options.capMs,
    bodyTimeout: options.capMs,
  });
  await cancel.body.text();
  const file = `${options.work}/status-update.xlsx`;
  const xlsxBytes = await writeStatusXlsx(file, options.iccids, 'active');

  log(`ingest: POST ${rows}-row XLSX (${(xlsxBytes / 1e6).toFixed(1)} MB)`);
  const upload = await inFreshServer(stack, notes, () =>
    postCsv(stack, file, options.query, options.capMs, XLSX_CONTENT_TYPE).catch((error: Error) => {
      notes.push(`XLSX: no answer within the cap (${options.capMs / 1000} s): ${error.message}`);
      return undefined;
    }),
  );
  const post = upload.value;
  const created = post?.status === 201;
  if (post && !created)
    notes.push(`XLSX answered ${post.status}: ${JSON.stringify(post.body).slice(0, 300)}`);
  log(
    `ingest: XLSX ${post?.status ?? 'no answer'} after ${Math.round(post?.elapsedMs ?? 0)} ms, peak RSS ${round(upload.peakRssMb, 0)} MB`,
  );

  const xlsxRssLimitedBy =
    `exceljs keeps the workbook's shared strings, one per distinct ICCID (${codeRef('src/bulk-changes/xlsx-sheets.ts', "sharedStrings: 'cache'")}), ` +
    'besides the intake batch and SQLite page cache of the CSV case';
  const figures: Figure[] = [
    info({ name: 'results.xlsx download', value: round(downloadMs / 1000, 1), unit: 's' }),
    info({
      name: 'server RSS growth, results.xlsx',
      value: round(download.peakRssMb - download.rssBeforeMb, 0),
      unit: 'MB',
    }),
    below(
      { name: 'peak server RSS, results.xlsx', value: round(download.peakRssMb, 0), unit: 'MB' },
      RSS_LIMIT_MB,
      `< ${RSS_LIMIT_MB} MB`,
    ),
    info({ name: 'XLSX time to 201', value: created ? round(post!.elapsedMs / 1000, 1) : null, unit: 's' }),
    info({
      name: 'XLSX ingest rate',
      value: created ? round((rows / post!.elapsedMs) * 1000, 0) : null,
      unit: 'rows/s',
    }),
    info({
      name: 'server RSS growth, XLSX upload',
      value: created ? round(upload.peakRssMb - upload.rssBeforeMb, 0) : null,
      unit: 'MB',
    }),
    below(
      {
        name: 'peak server RSS, XLSX upload',
        value: created ? round(upload.peakRssMb, 0) : null,
        unit: 'MB',
      },
      RSS_LIMIT_MB,
      `< ${RSS_LIMIT_MB} MB`,
    ),
  ];
  const downloadPeak = figures[2];
  if (downloadPeak.verdict !== 'met')
    downloadPeak.limitedBy = `a fresh server held ${round(download.rssBeforeMb, 0)} MB before the download; the rows, read a page of 1,000 at a time (${codeRef('src/bulk-changes/bulk-changes-service.ts', 'async *allChanges')}) and written by exceljs's streaming writer (${codeRef('src/bulk-changes/table-files.ts', 'export function xlsxFile')}), added ${round(download.peakRssMb - download.rssBeforeMb, 0)} MB`;
  const uploadPeak = figures.at(-1)!;
  if (uploadPeak.verdict !== 'met') uploadPeak.limitedBy = created ? xlsxRssLimitedBy : notes.at(-1);
  return {
    figures,
    notes,
    details: {
      resultsBytes,
      downloadMs: Math.round(downloadMs),
      downloadCpuMs: Math.round(download.cpuMs),
      downloadRestartMs: Math.round(download.restartMs),
      downloadRssBeforeMb: round(download.rssBeforeMb, 0),
      downloadPeakRssMb: round(download.peakRssMb, 0),
      downloadRssTimelineMb: thin(download.samples),
      xlsxBytes,
      uploadStatus: post?.status ?? null,
      uploadMs: post ? Math.round(post.elapsedMs) : null,
      uploadCpuMs: Math.round(upload.cpuMs),
      uploadRestartMs: Math.round(upload.restartMs),
      uploadRssBeforeMb: round(upload.rssBeforeMb, 0),
      uploadPeakRssMb: round(upload.peakRssMb, 0),
      uploadRssTimelineMb: thin(upload.samples),
    },
  };
}

/**
 * The account's every line exported for editing (`GET /api/v1/devices/export`, ADR 0059), as CSV and
 * as XLSX: the time to the last byte and the server's peak RSS while each streams.
 */
async function exportForEditing(
  stack: BenchStack,
  options: { accountId: string; rows: number; work: string; capMs: number },
): Promise<{ figures: Figure[]; notes: string[]; details: Record<string, unknown> }> {
  const notes: string[] = [];
  const figures: Figure[] = [];
  const details: Record<string, unknown> = {};
  for (const format of ['csv', 'xlsx'] as const) {
    log(`ingest: GET devices/export (${format}) of the ${options.rows} lines`);
    const file = `${options.work}/lines.${format}`;
    const query = new URLSearchParams({
      carrierAccountId: options.accountId,
      changeType: 'status_update',
      format,
    });
    const memory = await inFreshServer(stack, notes, async () => {
      const response = await request(`${stack.url}/api/v1/devices/export?${query}`, {
        headers: { authorization: `Bearer ${stack.adminKey}` },
        headersTimeout: options.capMs,
        bodyTimeout: options.capMs,
      });
      await pipeline(response.body, createWriteStream(file));
      return response.statusCode;
    });
    const elapsedMs = memory.ms;
    const rssBeforeMb = memory.rssBeforeMb;
    const ok = memory.value === 200;
    if (!ok) notes.push(`devices/export (${format}) answered ${memory.value}`);
    const bytes = statSync(file).size;
    log(
      `ingest: export ${format} ${(bytes / 1e6).toFixed(1)} MB in ${Math.round(elapsedMs)} ms, peak RSS ${round(memory.peakRssMb, 0)} MB`,
    );
    figures.push(
      info({
        name: `export for editing, ${format}`,
        value: ok ? round(elapsedMs / 1000, 1) : null,
        unit: 's',
      }),
      info({
        name: `server RSS growth, export ${format}`,
        value: round(memory.peakRssMb - rssBeforeMb, 0),
        unit: 'MB',
      }),
      below(
        { name: `peak server RSS, export ${format}`, value: round(memory.peakRssMb, 0), unit: 'MB' },
        RSS_LIMIT_MB,
        `< ${RSS_LIMIT_MB} MB`,
      ),
    );
    const peak = figures.at(-1)!;
    if (peak.verdict !== 'met')
      peak.limitedBy = `a fresh server held ${round(rssBeforeMb, 0)} MB before the export; the export, streamed a page of lines at a time (${codeRef('src/bulk-changes/selection-export.ts', 'export function selectionForEditing')}), added ${round(memory.peakRssMb - rssBeforeMb, 0)} MB`;
    // The file back as exported: every row read with its current_* cells, none edited (422 NOTHING_TO_CHANGE).
    log(`ingest: POST the unedited ${format} export back`);
    const importMemory = await inFreshServer(stack, notes, () =>
      postCsv(
        stack,
        file,
        { carrierAccountId: options.accountId, changeType: 'status_update' },
        options.capMs,
        format === 'xlsx' ? XLSX_CONTENT_TYPE : 'text/csv',
      ),
    );
    const back = importMemory.value;
    const importRssBeforeMb = importMemory.rssBeforeMb;
    const nothing =
      back.status === 422 && (back.body.error as { code?: string })?.code === 'NOTHING_TO_CHANGE';
    if (!nothing) notes.push(`the unedited ${format} export posted back answered ${back.status}`);
    log(
      `ingest: unedited ${format} back in ${Math.round(back.elapsedMs)} ms, peak RSS ${round(importMemory.peakRssMb, 0)} MB`,
    );
    figures.push(
      info({
        name: `unedited export ${format} posted back (NOTHING_TO_CHANGE)`,
        value: nothing ? round(back.elapsedMs / 1000, 1) : null,
        unit: 's',
      }),
      info({
        name: `server RSS growth, unedited ${format} back`,
        value: round(importMemory.peakRssMb - importRssBeforeMb, 0),
        unit: 'MB',
      }),
      info({
        name: `peak server RSS, unedited ${format} back`,
        value: round(importMemory.peakRssMb, 0),
        unit: 'MB',
      }),
    );
    details[format] = {
      status: memory.value,
      bytes,
      ms: Math.round(elapsedMs),
      cpuMs: Math.round(memory.cpuMs),
      restartMs: Math.round(memory.restartMs),
      rssBeforeMb: round(rssBeforeMb, 0),
      peakRssMb: round(memory.peakRssMb, 0),
      importStatus: back.status,
      importMs: Math.round(back.elapsedMs),
      importCpuMs: Math.round(importMemory.cpuMs),
      importRestartMs: Math.round(importMemory.restartMs),
      importRssBeforeMb: round(importRssBeforeMb, 0),
      importPeakRssMb: round(importMemory.peakRssMb, 0),
    };
  }
  return { figures, notes, details };
}

/**
 * Runs one phase in a server process of its own: the running server stopped gently (SIGTERM: it closes
 * the database and, when profiling, writes its profile) and `bulkchange serve` started again on the same
 * data directory. In the process that had taken the earlier phases, a phase's peak mostly measured
 * their uncollected heap and SQLite's page cache. In a fresh process the kernel's high-water mark
 * (VmHWM) is the phase's own peak, spikes between the 100 ms samples included; what the phase adds is
 * the peak less the idle server's RSS before it.
 */
async function inFreshServer<T>(
  stack: BenchStack,
  notes: string[],
  phase: () => Promise<T>,
): Promise<{
  value: T;
  /** Time of the phase alone, the restart excluded. */
  ms: number;
  cpuMs: number;
  restartMs: number;
  rssBeforeMb: number;
  peakRssMb: number;
  samples: Array<{ atMs: number; rssMb: number }>;
}> {
  const restartStarted = performance.now();
  if (stack.server?.running) {
    const exit = await stack.server.kill('SIGTERM', stack.startTimeoutMs);
    if (exit !== 0) notes.push(`a server stopped for the next phase ended with ${exit}`);
  }
  await stack.startServer();
  const restartMs = performance.now() - restartStarted;
  const sampler = new ProcessSampler(stack.server!.process.pid!, 100);
  const rssBeforeMb = sampler.samples.at(-1)?.rssMb ?? 0;
  const started = performance.now();
  const value = await phase();
  const ms = performance.now() - started;
  const cpuMs = sampler.cpuMsSinceStart();
  const memory = sampler.stop();
  const peakRssMb = Math.max(memory.peakRssMb, memory.hwmMb);
  return { value, ms, cpuMs, restartMs, rssBeforeMb, peakRssMb, samples: sampler.samples };
}

/** About 40 points of the RSS timeline, enough to see its shape. */
function thin(samples: Array<{ atMs: number; rssMb: number }>) {
  const step = Math.max(1, Math.floor(samples.length / 40));
  return samples
    .filter((_, index) => index % step === 0)
    .map((sample) => ({ atS: round(sample.atMs / 1000, 1), rssMb: round(sample.rssMb, 0) }));
}
