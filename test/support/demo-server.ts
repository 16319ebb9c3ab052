import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after } from 'node:test';
import { type Api, apiClient, type Child, killAllChildren, startCli, tempDir } from './processes.ts';

/** `demo.json` as `serve --demo` writes it into its data dir (API §6). */
export interface DemoFile {
  baseUrl: string;
  apiKey: string;
  tenant: string;
  carrierAccounts: Array<{ id: string; name: string; carrier: string }>;
  simulators: Record<string, string>;
  examples: Array<{ file: string; carrierAccountId: string | null; changeType: string; description: string }>;
}

export interface RunningDemo {
  server: Child;
  /** What the start-up banner prints. */
  banner: { url: string; key: string };
  demo: DemoFile;
  /** A client with the key of `demo.json`. */
  api: Api;
  /** Where it keeps its files. */
  dataDir: string;
}

/**
 * `bulkchange serve --demo` on a data dir of its own: `start()` starts it (again on the same data dir when
 * called again). The processes are killed and the data dir removed after the suite.
 */
export function demoServer(prefix: string, env: Record<string, string> = {}) {
  const data = tempDir(prefix);
  after(async () => {
    await killAllChildren();
    data.remove();
  });
  return {
    async start(): Promise<RunningDemo> {
      const server = startCli(['serve', '--demo'], {
        PORT: '0',
        BULKCHANGE_DATA_DIR: data.dir,
        WORKER_POLL_INTERVAL_MS: '50',
        LOG_LEVEL: 'warn',
        ...env,
      });
      const [, url] = await server.waitForOutput(/demo is running at (http:\/\/\S+)/, 30_000);
      const [, key] = await server.waitForOutput(/API key:\s+(\S+)/);
      const demo = JSON.parse(readFileSync(path.join(data.dir, 'demo.json'), 'utf8')) as DemoFile;
      return {
        server,
        banner: { url, key },
        demo,
        api: apiClient(demo.baseUrl, demo.apiKey),
        dataDir: data.dir,
      };
    },
  };
}
