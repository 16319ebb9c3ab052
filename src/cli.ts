#!/usr/bin/env node
import { text } from 'node:stream/consumers';
import { parseArgs } from 'node:util';
import { createRevioSimulator } from './billing/revio/simulator/simulator.ts';
import { createJasperSimulator } from './carriers/jasper/simulator/simulator.ts';
import { createPondSimulator } from './carriers/pond/simulator/simulator.ts';
import { createTealSimulator } from './carriers/teal/simulator/simulator.ts';
import { createTelegenceSimulator } from './carriers/telegence/simulator/simulator.ts';
import { createThingSpaceSimulator } from './carriers/thingspace/simulator/simulator.ts';
import {
  approveCommand,
  cancelCommand,
  pauseCommand,
  rejectCommand,
  resumeCommand,
  retryCommand,
  undoCommand,
  watchCommand,
} from './cli/act-commands.ts';
import { auditVerify } from './cli/audit-verify.ts';
import { CliError } from './cli/cli-error.ts';
import { processOutput } from './cli/cli-output.ts';
import { devicesCommand } from './cli/devices-export.ts';
import { listCommand, resultsCommand, statusCommand } from './cli/inspect-commands.ts';
import { keysCommand } from './cli/keys.ts';
import { reconcileCommand, reconciliationCommand } from './cli/reconcile-commands.ts';
import { submit } from './cli/submit.ts';
import { usersCommand } from './cli/users.ts';
import { roles } from './core/roles.ts';
import { type Executor, openDatabase } from './db/database.ts';
import { migrateToLatest } from './db/migrator.ts';
import { configOrExit, serve } from './main.ts';
import { listFailedJobs, retryFailedJob } from './queue/index.ts';

const usage = `Usage: bulkchange <command> [options]

  serve [--role api|worker|all] [--demo]   run the service (npm start = serve --demo)
  demo                                     run the service with the demo (seeded on first start)
  migrate                                  bring the database schema up to date
  simulate <carrier> [--port N] [--host H] run a simulator on its own (jasper, thingspace, telegence, pond, teal, revio)
  jobs failed                              list the jobs that failed for good (with their last error)
  jobs retry <id>                          run a failed job again
  audit verify [--tenant T]                recompute each tenant's audit hash chain; prints the head to
                                           keep, or the first entry changed or removed (exits 1)
  keys create --tenant T --role R [--name N]
                                           create an API key (printed once; roles: ${roles.join(', ')})
  keys list [--tenant T]                   list API keys: id, tenant, role, prefix, last use, revoked
  keys revoke <id>                         revoke an API key: it stops working at once
  users add --tenant T --email E --role R [--name N] [--modules m2m,mobility]  < password
                                           add a portal user; the first password is read from
                                           standard input (at least 12 characters)
  users list --tenant T                    list portal users: id, e-mail, role, modules, last sign-in
  users disable|enable <id>                stop (or restore) a user's sign-in; their sessions end at once

Bulk changes, through the API (--url and --key, else BULKCHANGE_URL and BULKCHANGE_API_KEY, else the
running demo's <BULKCHANGE_DATA_DIR>/demo.json; every command has --help):
  submit <file.csv|file.xlsx> --account ID|NAME --type TYPE [--dry-run] [--wait] [...]
                                           upload a CSV as a bulk change; --wait follows it (and the
                                           follow-ups it starts) to the end
  status <id> [--json]                     one bulk change: status, counts, times, links
  list [--status S] [--type T] [--account A] [--limit N] [--json]
                                           recent bulk changes, newest first, as a table
  results <id> [--out FILE]                the results CSV, to stdout or FILE
  devices export --change-type T --account A [--format csv|xlsx] [--status S] [--rate-plan P]
                 [--customer C] [--out FILE]
                                           the account's lines for editing (current_* beside each
                                           field); submit the edited file: only what differs is sent
  cancel <id> [--wait]                     cancel the rows not yet sent
  pause <id> [--wait]                      send nothing new until resumed
  resume <id> [--wait]                     carry on where it stopped (no row sent twice)
  approve <id> [--note TEXT] [--wait]      approve a change awaiting approval (approver role,
                                           not its creator)
  reject <id> --note TEXT                  reject it: it is cancelled, nothing is sent
  retry <id> [--wait]                      retry the failed rows as a new bulk change (prints its id)
  undo <id> [--dry-run] [--wait]           reverse a finished bulk change as a new one (prints its id);
                                           lists the rows it cannot reverse, with why
  watch <id>                               follow it live to its end, with its follow-ups
  reconcile <account> [--wait]             compare the carrier's lines, the inventory and billing;
                                           --wait prints the drift report
  reconciliation <id> [--json | --csv]     a reconciliation's report (--csv: every drift)
  Exit codes: 0 done (followed: every row succeeded), 1 refused by the server (4xx) or a dry run
  that would fail, 2 usage or cannot reach the API, 3 followed change ended with failed or
  cancelled rows
`;

const simulators = {
  jasper: createJasperSimulator,
  thingspace: createThingSpaceSimulator,
  telegence: createTelegenceSimulator,
  pond: createPondSimulator,
  teal: createTealSimulator,
  revio: createRevioSimulator,
} as const;

const apiCommands = [
  statusCommand,
  listCommand,
  resultsCommand,
  cancelCommand,
  pauseCommand,
  resumeCommand,
  approveCommand,
  rejectCommand,
  retryCommand,
  undoCommand,
  watchCommand,
  reconcileCommand,
  reconciliationCommand,
  devicesCommand,
];

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${usage}`);
  process.exit(2);
}

function parseArguments(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        role: { type: 'string' },
        demo: { type: 'boolean' },
        port: { type: 'string' },
        host: { type: 'string' },
        tenant: { type: 'string' },
        name: { type: 'string' },
        email: { type: 'string' },
        modules: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    fail((error as Error).message);
  }
}

/** Runs `work` on the configured database, its schema brought up to date first. */
async function onDatabase<T>(work: (db: Executor) => Promise<T>): Promise<T> {
  const config = configOrExit();
  const database = openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.BULKCHANGE_DATA_DIR });
  try {
    await migrateToLatest(database.db, database.capabilities);
    return await work(database.db);
  } finally {
    await database.close();
  }
}

async function main(argv: string[]): Promise<void> {
  // The commands that call the API have options of their own, parsed by them.
  if (argv[0] === 'submit') {
    process.exitCode = await submit(argv.slice(1));
    return;
  }
  const apiCommand = apiCommands.find((candidate) => candidate.name === argv[0]);
  if (apiCommand) {
    process.exitCode = await apiCommand.run(argv.slice(1), processOutput);
    return;
  }
  const { values, positionals } = parseArguments(argv);
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    process.stdout.write(usage);
    return;
  }
  switch (command) {
    case 'serve': {
      const role = values.role;
      if (role !== undefined && role !== 'api' && role !== 'worker' && role !== 'all')
        fail(`Unknown role ${role}`);
      await serve({ role, demo: values.demo });
      return;
    }
    case 'demo':
      await serve({ role: 'all', demo: true });
      return;
    case 'migrate': {
      const config = configOrExit();
      const database = openDatabase({
        databaseUrl: config.DATABASE_URL,
        dataDir: config.BULKCHANGE_DATA_DIR,
      });
      const applied = await migrateToLatest(database.db, database.capabilities);
      await database.close();
      process.stdout.write(
        applied.length ? `Applied: ${applied.join(', ')}\n` : 'The schema is up to date.\n',
      );
      return;
    }
    case 'simulate': {
      const carrier = rest[0] as keyof typeof simulators;
      if (!simulators[carrier]) fail(`No simulator for "${rest[0] ?? ''}"`);
      const port =
        values.port === undefined ? 4010 : /^\d+$/.test(values.port) ? Number(values.port) : Number.NaN;
      if (!(port >= 0 && port <= 65535)) fail(`Invalid port "${values.port}"`);
      const simulator = simulators[carrier]();
      const url = await simulator.listen({ port, host: values.host ?? '127.0.0.1' });
      process.stdout.write(`${carrier} simulator listening at ${url} (admin API: ${url}/_sim/devices)\n`);
      const stop = () => simulator.close().then(() => process.exit(0));
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
      return;
    }
    case 'jobs': {
      const config = configOrExit();
      const database = openDatabase({
        databaseUrl: config.DATABASE_URL,
        dataDir: config.BULKCHANGE_DATA_DIR,
      });
      try {
        if (rest[0] === 'failed') {
          for (const job of await listFailedJobs(database.db, { limit: 1000 })) {
            process.stdout.write(
              `${job.id}  ${job.task}  ${JSON.stringify(job.payload)}  attempts ${job.attempts}  ${job.lastError ?? ''}\n`,
            );
          }
        } else if (rest[0] === 'retry' && rest[1]) {
          const id = await retryFailedJob(database.db, rest[1]);
          if (!id) fail(`No failed job ${rest[1]}`);
          process.stdout.write(`Job ${id} will run again.\n`);
        } else {
          fail('Use "jobs failed" or "jobs retry <id>"');
        }
      } finally {
        await database.close();
      }
      return;
    }
    case 'audit': {
      if (rest[0] !== 'verify') fail('Only "audit verify" exists');
      const config = configOrExit();
      const database = openDatabase({
        databaseUrl: config.DATABASE_URL,
        dataDir: config.BULKCHANGE_DATA_DIR,
      });
      try {
        process.exitCode = await auditVerify(database, values.tenant);
      } finally {
        await database.close();
      }
      return;
    }
    case 'keys': {
      const [action, id] = rest;
      if (action === 'create') {
        const role = values.role as (typeof roles)[number];
        if (!values.tenant || !roles.includes(role)) fail('keys create needs --tenant and --role');
      } else if (action === 'revoke') {
        if (!id) fail('keys revoke needs the key id (keys list shows it)');
      } else if (action !== 'list') fail('keys create, keys list or keys revoke <id>');
      process.stdout.write(await onDatabase((db) => keysCommand(db, action, { ...values, id })));
      return;
    }
    case 'users': {
      const [action, id] = rest;
      if (action === 'add') {
        if (!values.tenant || !values.email || !values.role)
          fail('users add needs --tenant, --email and --role');
      } else if (action === 'disable' || action === 'enable') {
        if (!id) fail(`users ${action} needs the user id (users list shows it)`);
      } else if (action === 'list') {
        if (!values.tenant) fail('users list needs --tenant');
      } else fail('users add, users list, users disable <id> or users enable <id>');
      // The first line of standard input: a password on the command line would show in `ps`.
      const password = action === 'add' ? (await text(process.stdin)).split(/\r?\n/)[0] : undefined;
      process.stdout.write(await onDatabase((db) => usersCommand(db, action, { ...values, id, password })));
      return;
    }
    default:
      fail(`Unknown command "${command}"`);
  }
}

main(process.argv.slice(2)).catch((error) => {
  if (error instanceof CliError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
