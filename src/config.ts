import path from 'node:path';
import { z } from 'zod';

const booleanFromEnv = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

/** A comma-separated list; blanks dropped. */
const listFromEnv = z.string().transform((value) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== ''),
);

const configSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().min(1).default('127.0.0.1'),
  BULKCHANGE_DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  BULKCHANGE_ROLE: z.enum(['api', 'worker', 'all']).default('all'),
  BULKCHANGE_ENCRYPTION_KEY: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex characters (32 bytes)')
    .optional(),
  BULKCHANGE_PUBLIC_URL: z.url().optional(),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(8),
  WORKER_POLL_INTERVAL_MS: z.coerce.number().int().min(10).max(60_000).default(250),
  JOB_LEASE_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(30_000),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(600_000).default(10_000),
  MAX_UPLOAD_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(512 * 1024 * 1024),
  /** The whole request (headers and body, uploads included) must arrive within this (Node's requestTimeout). */
  HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(300_000),
  /** The request's headers must arrive within this (Node's headersTimeout). */
  HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(600_000).default(15_000),
  /** An idle keep-alive connection is closed after this. */
  HTTP_KEEP_ALIVE_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  /** Small bodies (carrier callbacks, portal forms) must arrive within this of their headers. */
  HTTP_BODY_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  BULKCHANGE_DEMO: booleanFromEnv.optional(),
  /**
   * Networks (CIDR or single addresses) and host names that outbound calls on a tenant's behalf may
   * reach although they are loopback, private, link-local…; checked when the runtime starts.
   */
  BULKCHANGE_OUTBOUND_ALLOW: listFromEnv.default([]),
});

/** Node refuses a headers timeout longer than the request timeout. */
const configSchemaChecked = configSchema.refine(
  (config) => config.HTTP_HEADERS_TIMEOUT_MS <= config.HTTP_REQUEST_TIMEOUT_MS,
  { message: 'must not be longer than HTTP_REQUEST_TIMEOUT_MS', path: ['HTTP_HEADERS_TIMEOUT_MS'] },
);

export type Config = Readonly<
  Omit<z.infer<typeof configSchema>, 'BULKCHANGE_DATA_DIR'> & {
    BULKCHANGE_DATA_DIR: string;
  }
>;

export class ConfigError extends Error {
  readonly issues: string[];
  constructor(issues: string[]) {
    super(`Invalid configuration:\n  ${issues.join('\n  ')}`);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/** Parses the environment once. Every invalid key is reported in one error, not the first only. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const relevant = Object.fromEntries(
    Object.keys(configSchema.shape)
      .filter((key) => env[key] !== undefined && env[key] !== '')
      .map((key) => [key, env[key]]),
  );
  const parsed = configSchemaChecked.safeParse(relevant);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  return Object.freeze({
    ...parsed.data,
    BULKCHANGE_DATA_DIR: path.resolve(parsed.data.BULKCHANGE_DATA_DIR),
  });
}
