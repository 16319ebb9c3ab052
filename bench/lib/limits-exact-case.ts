/**
 * "Limits exact" (issue 13, ADR 0016): does any sliding second at the carrier hold more requests than
 * the limit when the sending process's event loop is busy? A client sends through the carrier HTTP
 * client and the in-process limiter while its event loop is blocked at random (up to 150 ms at a time,
 * as a synchronous SQLite transaction or a large API answer would), to a server in another process that
 * records when each request arrives.
 *
 *   node bench/lib/limits-exact-case.ts [--root DIR] [--rate 5] [--concurrency 1] [--busy on|off]
 *
 * `--root` measures another checkout of the code (e.g. the commit before the change, extracted with
 * `git archive`), whose limiter and client it loads.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';

const { values } = parseArgs({
  options: {
    root: { type: 'string', default: path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..') },
    rate: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '1' },
    busy: { type: 'string', default: 'on' },
    seconds: { type: 'string', default: '8' },
  },
});
const root = path.resolve(values.root);
const rate = Number(values.rate);
const concurrency = Number(values.concurrency);

// The arrivals server: another process, so the client's busy loop does not delay its clock.
const serverSource = `
  const http = require('node:http');
  const arrivals = [];
  const server = http.createServer((request, response) => {
    if (request.url === '/arrivals') return response.end(JSON.stringify(arrivals));
    arrivals.push(performance.timeOrigin + performance.now());
    request.resume();
    request.on('end', () => { response.setHeader('content-type', 'application/json'); response.end('{}'); });
  });
  server.listen(0, '127.0.0.1', () => console.log('PORT ' + server.address().port));`;
const server = spawn(process.execPath, ['-e', serverSource], { stdio: ['ignore', 'pipe', 'inherit'] });
const port = await new Promise<number>((resolve) =>
  server.stdout?.on('data', (chunk) => {
    const match = /PORT (\d+)/.exec(String(chunk));
    if (match) resolve(Number(match[1]));
  }),
);

const { CarrierHttpClient } = await import(path.join(root, 'src/carriers/http/client.ts'));
const { Limiter } = await import(path.join(root, 'src/carriers/limits/limiter.ts'));
const limiter = new Limiter({ requestsPerSecond: rate, maxConcurrent: concurrency });
let circuit: unknown;
try {
  const { LocalCircuit } = await import(path.join(root, 'src/carriers/limits/local-circuit.ts'));
  circuit = new LocalCircuit({ consecutiveFailures: 10, halfOpenAfterMs: 5_000 });
} catch {
  circuit = undefined; // older code: the client makes its own
}
// When the code reports the moments requests leave (ADR 0016), they are recorded too: the gaps as
// the client saw them, apart from the receiving process's own delays.
const leftAt: number[] = [];
type Moment = { sending: () => boolean; sent: () => void };
const recording = {
  schedule: (fn: (moment?: Moment) => Promise<unknown>, signal?: AbortSignal) =>
    limiter.schedule(
      (moment?: Moment) =>
        fn(
          moment && {
            sending: () => moment.sending(),
            sent: () => {
              leftAt.push(performance.timeOrigin + performance.now());
              moment.sent();
            },
          },
        ),
      signal,
    ),
  pauseFor: (ms: number) => limiter.pauseFor(ms),
};
// The client connects only through the outbound address policy (ADR 0011); the arrivals server is on
// loopback, so it is allowed, as the operator's own hosts are. Older code made its own connections.
let dispatcher: unknown;
try {
  const { outboundAgent } = await import(path.join(root, 'src/carriers/http/agent.ts'));
  const { OutboundAddressPolicy } = await import(path.join(root, 'src/carriers/http/address-policy.ts'));
  dispatcher = outboundAgent(new OutboundAddressPolicy(['127.0.0.1']));
} catch {
  dispatcher = undefined;
}
const client = new CarrierHttpClient({
  system: 'bench',
  baseUrl: `http://127.0.0.1:${port}/`,
  limiter: recording,
  circuit,
  dispatcher,
  parseError: () => ({}),
});

let busy = values.busy !== 'off';
const blockAtRandom = () => {
  if (!busy) return;
  const until = performance.now() + Math.random() * 150;
  while (performance.now() < until) {
    // the event loop is held, as by a synchronous transaction
  }
  setTimeout(blockAtRandom, Math.random() * 100);
};
blockAtRandom();

const count = rate * Number(values.seconds);
await Promise.all(
  Array.from({ length: count }, (_, index) =>
    client.send(
      { action: 'put', method: 'PUT', path: `/lines/${index}`, body: { index } },
      { audit: () => {} },
    ),
  ),
);
busy = false;
const arrivals = z.array(z.number()).parse(await (await fetch(`http://127.0.0.1:${port}/arrivals`)).json());
server.kill();
arrivals.sort((a, b) => a - b);
const gaps = arrivals.slice(1).map((at, index) => at - arrivals[index]);
let most = 0;
for (let hi = 0, lo = 0; hi < arrivals.length; hi++) {
  while (arrivals[hi] - arrivals[lo] >= 1000) lo++;
  most = Math.max(most, hi - lo + 1);
}
process.stdout.write(
  `${JSON.stringify({
    root,
    rate,
    concurrency,
    busy: values.busy !== 'off',
    requests: arrivals.length,
    mostInASecond: most,
    smallestGapMs: Math.round(Math.min(...gaps) * 10) / 10,
    smallestGapAtClientMs:
      leftAt.length > 1
        ? Math.round(Math.min(...leftAt.slice(1).map((at, index) => at - leftAt[index])) * 10) / 10
        : null,
    configuredSpacingMs: Math.round((1000 / rate) * 1.02 * 10) / 10,
    achievedShareOfLimit:
      Math.round(((arrivals.length - 1) / (arrivals.at(-1)! - arrivals[0])) * (1000 / rate) * 1000) / 1000,
    achievedPerSecond:
      Math.round(((arrivals.length - 1) / (arrivals.at(-1)! - arrivals[0])) * 1000 * 100) / 100,
  })}\n`,
);
