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

/** What the API does with an answer and its route's documented schema (`src/http/answer-serializer.ts`). */
export const answerChecks = ['off', 'strip', 'strict'] as const;
export type AnswerCheck = (typeof answerChecks)[number];

/**
 * Which proxies in front may tell the client's address and protocol (`X-Forwarded-For`, `-Proto`):
 * `true` (any), `false` (none), a hop count, or addresses / CIDRs / `loopback`, `linklocal`,
 * `uniquelocal` (as Fastify's `trustProxy` takes them).
 */
const trustProxyFromEnv = z.string().transform((value, context): boolean | number | string[] => {
  if (value === 'true' || value === 'false') return value === 'true';
  if (/^\d+$/.test(value)) return Number(value);
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  const invalid = entries.filter(
    (entry) => !/^(?:[0-9a-fA-F:.]+(?:\/\d{1,3})?|loopback|linklocal|uniquelocal)$/.test(entry),
  );
  if (invalid.length > 0)
    context.addIssue({ code: 'custom', message: `not an address or CIDR: ${invalid.join(', ')}` });
  return entries;
});

const configSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().min(1).default('127.0.0.1'),
  /** Where a `worker` process serves /healthz, /readyz and /metrics (0: any free port, logged). */
  WORKER_HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  BULKCHANGE_DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  /** PostgreSQL connections per process (its pool); the LISTEN connection is one more. */
  DATABASE_POOL_SIZE: z.coerce.number().int().min(2).max(1000).default(10),
  BULKCHANGE_ROLE: z.enum(['api', 'worker', 'all']).default('all'),
  BULKCHANGE_ENCRYPTION_KEY: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hex characters (32 bytes)')
    .optional(),
  BULKCHANGE_PUBLIC_URL: z.url().optional(),
  /** The API the CLI's client commands (submit, status, …) call, when `--url` is not given. */
  BULKCHANGE_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** The API key those commands send, when `--key` is not given. */
  BULKCHANGE_API_KEY: z.string().min(1).optional(),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(32),
  WORKER_POLL_INTERVAL_MS: z.coerce.number().int().min(10).max(60_000).default(250),
  JOB_LEASE_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(30_000),
  /** How long one job works on a bulk change before it yields to others (fairness). */
  ENGINE_SLICE_MS: z.coerce.number().int().min(100).max(600_000).default(5_000),
  /**
   * Tests and demos only: carrier per-line quotas count in windows of this length instead of UTC days
   * and months, so a row waiting for its line's quota is freed within seconds (docs/guardrails.md).
   */
  LINE_QUOTA_PERIOD_MS: z.coerce.number().int().min(1_000).optional(),
  /** Jobs that may work on one bulk change at once (on several workers), where its account allows calls in parallel. */
  ENGINE_PARALLEL_JOBS: z.coerce.number().int().min(1).max(64).default(4),
  /**
   * The window a tenant's blast-radius cap counts destructive line changes over (docs/guardrails.md):
   * an hour, as the policy's `destructiveLinesPerHour` says. Shorter only to rehearse the cap.
   */
  BLAST_RADIUS_WINDOW_MS: z.coerce.number().int().min(1_000).max(86_400_000).default(3_600_000),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(600_000).default(10_000),
  MAX_UPLOAD_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(512 * 1024 * 1024),
  /** How often the worker looks for carrier accounts whose reconciliation schedule is due. */
  RECONCILIATION_SCHEDULE_CHECK_MS: z.coerce.number().int().min(100).max(3_600_000).default(60_000),
  /**
   * How long a carrier callback that no row carries waits before it counts as a change made outside
   * bulkchange (and the account is reconciled): rows record their requests within seconds.
   */
  RECONCILIATION_CALLBACK_SETTLE_MS: z.coerce.number().int().min(100).max(3_600_000).default(60_000),
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
  /** The whole request (headers and body, uploads included) must arrive within this (Node's requestTimeout). */
  HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(300_000),
  /** The request's headers must arrive within this (Node's headersTimeout). */
  HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(600_000).default(15_000),
  /** An idle keep-alive connection is closed after this. */
  HTTP_KEEP_ALIVE_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  /** Small bodies (carrier callbacks, portal forms) must arrive within this of their headers. */
  HTTP_BODY_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  /** Failed authentication attempts per client address, and per key prefix, per minute. */
  AUTH_FAILURES_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(20),
  BULKCHANGE_TRUST_PROXY: trustProxyFromEnv.default(false),
  /**
   * What the API does with an answer and its route's documented schema (ADR 0058): `off` writes it as
   * built, `strip` parses it and drops what the schema does not name, `strict` (the tests) refuses it.
   */
  BULKCHANGE_ANSWER_CHECK: z.enum(answerChecks).default('off'),
  /** Portal sign-ins kept in memory at most; past it, the one seen longest ago ends. */
  PORTAL_MAX_SESSIONS: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
  /** A portal session ends after this long without a request… */
  PORTAL_SESSION_IDLE_MS: z.coerce
    .number()
    .int()
    .min(60_000)
    .max(30 * 86_400_000)
    .default(2 * 3_600_000),
  /** …and in any case this long after sign-in. */
  PORTAL_SESSION_MAX_AGE_MS: z.coerce
    .number()
    .int()
    .min(60_000)
    .max(30 * 86_400_000)
    .default(12 * 3_600_000),
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
