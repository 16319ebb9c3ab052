import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A proxy in front of a simulator that trips on chosen requests: it calls `onTrip` (a test kills the
 * worker there) and never answers them, so the caller dies with the request in flight, exactly when
 * the test wants. Every other request goes through unchanged, after `before` (a test sets a fault at
 * the simulator there, between two requests of the caller).
 */
export async function startTripwireProxy(options: {
  target: string;
  trips: (request: IncomingMessage) => boolean;
  onTrip: () => void;
  before?: (request: IncomingMessage) => Promise<void>;
}): Promise<{ url: string; trips: number; close: () => Promise<void> }> {
  const state = { trips: 0 };
  const server = createServer(async (request, response) => {
    if (options.trips(request)) {
      state.trips += 1;
      options.onTrip();
      return; // Held open: the caller is killed mid-request.
    }
    await options.before?.(request);
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    try {
      const answer = await fetch(new URL(request.url ?? '/', options.target), {
        method: request.method,
        headers: Object.fromEntries(
          Object.entries(request.headers).flatMap(([name, value]) =>
            typeof value === 'string' && name !== 'host' && name !== 'connection' ? [[name, value]] : [],
          ),
        ),
        body: chunks.length > 0 ? Buffer.concat(chunks) : undefined,
      });
      response.writeHead(answer.status, Object.fromEntries(answer.headers));
      response.end(Buffer.from(await answer.arrayBuffer()));
    } catch {
      response.destroy();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get trips() {
      return state.trips;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
