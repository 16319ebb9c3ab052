/**
 * The HTTP ceiling of the engine scenario: a bare client sending the same status updates straight to the
 * simulator (`PUT /rws/api/v1/devices/{iccid}`, HTTP Basic, JSON), `concurrency` at a time over
 * keep-alive connections. No database, no queue, no audit: what the simulator alone can serve here.
 *
 * `node bench/lib/http-ceiling.ts <simulatorUrl> <rows> <concurrency> <iccidPrefix>` prints
 * `{requests, elapsedMs, requestsPerSecond, statuses, cpuMs}` as JSON.
 */
import { Pool } from 'undici';
import { benchIccids } from './stack.ts';

const [simulatorUrl, rowsArgument, concurrencyArgument, prefix] = process.argv.slice(2);
const rows = Number(rowsArgument);
const concurrency = Number(concurrencyArgument);
const iccids = benchIccids(rows, prefix);
const pool = new Pool(simulatorUrl, { connections: concurrency, pipelining: 1 });
const headers = {
  authorization: `Basic ${Buffer.from('demo:demo-api-key').toString('base64')}`,
  'content-type': 'application/json',
};
const body = JSON.stringify({ status: 'ACTIVATED' });
const statuses: Record<number, number> = {};

const cpuBefore = process.cpuUsage();
const started = performance.now();
let next = 0;
const lane = async () => {
  while (next < rows) {
    const iccid = iccids[next++];
    const response = await pool.request({
      path: `/rws/api/v1/devices/${iccid}`,
      method: 'PUT',
      headers,
      body,
    });
    await response.body.json();
    statuses[response.statusCode] = (statuses[response.statusCode] ?? 0) + 1;
  }
};
await Promise.all(Array.from({ length: concurrency }, lane));
const elapsedMs = performance.now() - started;
const cpu = process.cpuUsage(cpuBefore);
await pool.close();

process.stdout.write(
  `${JSON.stringify({
    requests: rows,
    concurrency,
    elapsedMs: Math.round(elapsedMs),
    requestsPerSecond: Math.round((rows / elapsedMs) * 1000),
    statuses,
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
  })}\n`,
);
