import { createServer, type Server } from 'node:http';
import { verifySignature } from '../../src/notifications/webhook-signature.ts';

/** One delivery as the receiver got it. */
export interface Received {
  at: number;
  headers: Record<string, string | string[] | undefined>;
  /** The raw body, as signed. */
  body: string;
  event: { id: string; type: string; createdAt: string; data: Record<string, unknown> };
  /** What the receiver answered. */
  status: number;
}

/**
 * A webhook receiver on a port of its own: it records every delivery, answers 204 (or `failWith` while
 * set), and can be taken down (the port refuses connections) and brought back on the same port.
 */
export class WebhookReceiver {
  readonly received: Received[] = [];
  failWith: number | undefined;
  #server: Server | undefined;
  #port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.#port}/hooks`;
  }

  async start(port = 0): Promise<void> {
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const status = this.failWith ?? 204;
        this.received.push({
          at: Date.now(),
          headers: request.headers,
          body,
          event: JSON.parse(body),
          status,
        });
        response.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    const address = server.address();
    this.#port = typeof address === 'object' && address ? address.port : port;
    this.#server = server;
  }

  /** Stops listening: deliveries meet a refused connection until `start` again. */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }

  /** The deliveries accepted (2xx), by event id. */
  accepted(): Map<string, Received[]> {
    const accepted = new Map<string, Received[]>();
    for (const delivery of this.received.filter((item) => item.status < 300))
      accepted.set(delivery.event.id, [...(accepted.get(delivery.event.id) ?? []), delivery]);
    return accepted;
  }

  /** Whether a delivery's signature holds under `secret`. */
  static verifies(delivery: Received, secret: string): boolean {
    return verifySignature(secret, String(delivery.headers['bulkchange-signature']), delivery.body);
  }
}
