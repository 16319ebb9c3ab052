import { type Logger, pino } from 'pino';
import { type Config, ConfigError, loadConfig } from './config.ts';
import { type Role, type Service, startService } from './runtime.ts';

export function createLogger(config: Pick<Config, 'LOG_LEVEL'>): Logger {
  return pino({ name: 'bulkchange', level: config.LOG_LEVEL });
}

/** Reads the configuration or exits with every problem listed. */
export function configOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}

/** `bulkchange serve`: runs until SIGTERM / SIGINT, then finishes or hands back in-flight work. */
export async function serve(options: { role?: Role; demo?: boolean }): Promise<Service> {
  const config = configOrExit();
  const logger = createLogger(config);
  const role = options.role ?? config.BULKCHANGE_ROLE;
  const demo = (options.demo ?? config.BULKCHANGE_DEMO ?? false) && role === 'all';
  const service = await startService({ config, role, demo, logger }).catch((error: unknown) => {
    // Entries read but not understood until the runtime builds from them (BULKCHANGE_OUTBOUND_ALLOW),
    // and a port that cannot be had: the operator's to fix, in one line rather than a stack.
    const problem = error instanceof ConfigError ? error.message : listenProblem(error, role, config);
    if (problem === undefined) throw error;
    process.stderr.write(`${problem}\n`);
    process.exit(2);
  });
  if (service.demo) {
    process.stdout.write(
      [
        '',
        `  bulkchange demo is running at ${service.demo.url}`,
        `  API key:  ${service.demo.apiKey}`,
        `  API docs: ${service.demo.url}/api/docs`,
        `  Details and example files: ${service.demo.file}`,
        '',
        '',
      ].join('\n'),
    );
  } else if (service.url) {
    logger.info({ url: service.url, role }, 'bulkchange is serving');
  }
  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    service.stop().then(
      () => process.exit(0),
      (error) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  return service;
}

/** What to say when the HTTP server cannot listen: which address, and the variable that chooses another. */
export function listenProblem(
  error: unknown,
  role: Role,
  config: Pick<Config, 'PORT' | 'WORKER_HTTP_PORT' | 'HOST'>,
): string | undefined {
  const { code } = error as { code?: unknown };
  const variable = role === 'worker' ? 'WORKER_HTTP_PORT' : 'PORT';
  const port = role === 'worker' ? config.WORKER_HTTP_PORT : config.PORT;
  const where = `${config.HOST}:${port}`;
  const other = `choose another with ${variable}, e.g. ${variable}=${port === 65535 ? port - 1 : port + 1} ${role === 'worker' ? 'bulkchange serve --role worker' : 'npm start'}`;
  if (code === 'EADDRINUSE')
    return `Cannot listen on ${where}: the port is in use (another bulkchange?); ${other}`;
  if (code === 'EACCES') return `Cannot listen on ${where}: not allowed to use that port; ${other}`;
  if (code === 'EADDRNOTAVAIL')
    return `Cannot listen on ${where}: this machine has no such address; set HOST to one of its addresses`;
  return undefined;
}
