import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { type Config, ConfigError, loadConfig } from '../config.ts';
import { pageOf } from '../shared/answers.ts';
import { carrierAccountSchema } from './api-answers.ts';
import { type ApiClient, expectOk } from './api-client.ts';
import { CliError } from './cli-error.ts';

/** The part of the demo file (API §6) that says where the API is and how to call it. */
const demoFileSchema = z.object({ baseUrl: z.url(), apiKey: z.string().min(1) });

/** `--url` and `--key`, the flags every command that calls the API takes. */
export const connectionFlags = {
  url: { type: 'string' },
  key: { type: 'string' },
} as const;

export const connectionSchema = z.object({
  url: z.url({ protocol: /^https?$/, error: '--url must be an http(s) URL' }).optional(),
  key: z.string().min(1).optional(),
});

export const connectionHelp =
  '--url URL, --key KEY     the API and an API key; default: BULKCHANGE_URL and BULKCHANGE_API_KEY,\n' +
  '                           else what the running demo wrote into <BULKCHANGE_DATA_DIR>/demo.json';

/**
 * The API to talk to, each half from the first that has it: `--url` / `--key`, then
 * `BULKCHANGE_URL` / `BULKCHANGE_API_KEY`, then what the local demo wrote into
 * `<BULKCHANGE_DATA_DIR>/demo.json` (so that nobody types the demo's port or key).
 */
export function resolveConnection(flags: { url?: string; key?: string }): {
  baseUrl: string;
  apiKey: string;
} {
  const config = cliConfig();
  const baseUrl = flags.url ?? config.BULKCHANGE_URL;
  const apiKey = flags.key ?? config.BULKCHANGE_API_KEY;
  if (baseUrl && apiKey) return { baseUrl, apiKey };
  const demo = readDemoFile(config.BULKCHANGE_DATA_DIR);
  return { baseUrl: baseUrl ?? demo.baseUrl, apiKey: apiKey ?? demo.apiKey };
}

function readDemoFile(dataDir: string): z.infer<typeof demoFileSchema> {
  const file = path.join(dataDir, 'demo.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new CliError(
      `Give --url and --key (or BULKCHANGE_URL and BULKCHANGE_API_KEY), or start the demo (npm start) so that ${file} exists (it is read when they are not given)`,
    );
  }
  let parsed: ReturnType<typeof demoFileSchema.safeParse>;
  try {
    parsed = demoFileSchema.safeParse(JSON.parse(text));
  } catch {
    throw new CliError(`${file} is not JSON`);
  }
  if (!parsed.success) throw new CliError(`${file} has no valid baseUrl and apiKey`);
  return parsed.data;
}

function cliConfig(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message);
    throw error;
  }
}

/** `--account` is an account id or, failing that, an account name (exact, then ignoring case). */
export async function resolveAccountId(client: ApiClient, account: string): Promise<string> {
  const { items } = expectOk(
    await client.get('/api/v1/carrier-accounts'),
    pageOf(carrierAccountSchema),
    'GET /api/v1/carrier-accounts',
  );
  const found =
    items.find((item) => item.id === account) ??
    items.find((item) => item.name === account) ??
    only(items.filter((item) => item.name.toLowerCase() === account.toLowerCase()));
  if (found) return found.id;
  const known = items.map((item) => `  ${item.name} (${item.id}, ${item.carrier})`).join('\n');
  throw new CliError(
    `No carrier account with the id or name "${account}".${known ? ` The accounts are:\n${known}` : ''}`,
  );
}

const only = <T>(items: T[]): T | undefined => (items.length === 1 ? items[0] : undefined);
