/**
 * The command could not do its job for a reason the user can fix: bad arguments, an unreadable file,
 * no server to talk to. Printed without a stack trace; the process exits 2.
 */
export class CliError extends Error {
  override name = 'CliError';
}

/** The server could not be reached, or the connection broke: worth trying again when following. */
export class UnreachableError extends CliError {
  override name = 'UnreachableError';
}

/** The server refused the request with a 4xx (not found, already finished, …): the process exits 1. */
export class RefusedError extends CliError {
  override name = 'RefusedError';
}
