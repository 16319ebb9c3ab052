import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError, loadConfig } from '../config.ts';
import { carrierAccountSchema, pageSchema } from './api-answers.ts';
import { type ApiClient, expectOk } from './api-client.ts';
import { CliError } from './cli-error.ts';

/** The part of the demo file (API §6) that says where the API is and how to call it. */
const demoFileSchema = z.object({ baseUrl: z.url(), apiKey: z.string().min(1) });

/**
 * The API to talk to: `--url` and `--key` when given, else what the local demo wrote into
 * `<BULKCHANGE_DATA_DIR>/demo.json`.
 */
export function resolveConnection(flags: { url?: string; key?: string }): {
  baseUrl: string;
  apiKey: string;
} {
  if (flags.url && flags.key) return { baseUrl: flags.url, apiKey: flags.key };
  const demo = readDemoFile();
  return { baseUrl: flags.url ?? demo.baseUrl, apiKey: flags.key ?? demo.apiKey };
}

function readDemoFile(): z.infer<typeof demoFileSchema> {
  const file = path.join(dataDir(), 'demo.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new CliError(
      `Give --url and --key, or start the demo (npm start) so that ${file} exists (it is read when they are not given)`,
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

function dataDir(): string {
  try {
    return loadConfig().BULKCHANGE_DATA_DIR;
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message);
    throw error;
  }
}

/** `--account` is an account id or, failing that, an account name (exact, then ignoring case). */
export async function resolveAccountId(client: ApiClient, account: string): Promise<string> {
  const { items } = expectOk(
    await client.get('/api/v1/carrier-accounts'),
    pageSchema(carrierAccountSchema),
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
