import path from 'node:path';
import { z } from 'zod';

const booleanFromEnv = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

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
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(32),
  WORKER_POLL_INTERVAL_MS: z.coerce.number().int().min(10).max(60_000).default(250),
  JOB_LEASE_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(30_000),
  /** How long one job works on a bulk change before it yields to others (fairness). */
  ENGINE_SLICE_MS: z.coerce.number().int().min(100).max(600_000).default(5_000),
  /** Jobs that may work on one bulk change at once (on several workers), where its account allows calls in parallel. */
  ENGINE_PARALLEL_JOBS: z.coerce.number().int().min(1).max(64).default(4),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(600_000).default(10_000),
  MAX_UPLOAD_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(512 * 1024 * 1024),
  /** How often the audit log's new entries are sealed into each tenant's hash chain. */
  AUDIT_SEAL_INTERVAL_MS: z.coerce.number().int().min(100).max(3_600_000).default(5_000),
  /**
   * Days after which finished bulk changes' rows and audit entries are exported (JSON lines) and
   * pruned; unset keeps everything.
   */
  BULKCHANGE_RETENTION_DAYS: z.coerce.number().positive().max(36_500).optional(),
  /** How often the retention sweep looks for what has aged out. */
  BULKCHANGE_RETENTION_INTERVAL_MS: z.coerce.number().int().min(1_000).default(3_600_000),
  /** Where retention exports go (default: `<data dir>/exports`). */
  BULKCHANGE_EXPORT_DIR: z.string().min(1).optional(),
  /** A webhook delivery attempt that takes longer than this fails (and is retried). */
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  /** The first retry of a failed delivery comes this long after it; each next one twice as long (≤ 1 h). */
  WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().min(10).max(3_600_000).default(10_000),
  /** How long a delivery is retried before it is given up. */
  WEBHOOK_RETRY_FOR_MS: z.coerce.number().int().min(1_000).default(86_400_000),
  /** The SMTP server completion e-mails go through (`smtp://user:pass@host:587`, `smtps://…`); unset: no e-mail. */
  BULKCHANGE_SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL')
    .optional(),
  /** The From of completion e-mails. */
  BULKCHANGE_MAIL_FROM: z.string().min(3).default('bulkchange <bulkchange@localhost>'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  BULKCHANGE_DEMO: booleanFromEnv.optional(),
});

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
  const parsed = configSchema.safeParse(relevant);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  return Object.freeze({
    ...parsed.data,
    BULKCHANGE_DATA_DIR: path.resolve(parsed.data.BULKCHANGE_DATA_DIR),
  });
}
