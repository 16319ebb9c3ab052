/**
 * The exit codes of every command that talks to the API (submit, status, list, results, cancel, retry,
 * watch), the same for all of them so that a script can branch on them (README, "Exit codes").
 */
export const exitCodes = {
  /** Done: shown, written, accepted; a followed bulk change ended with every row succeeded. */
  ok: 0,
  /** The server refused (a 4xx: not found, already finished, invalid rows); a dry run with rows that would fail. */
  refused: 1,
  /** The command could not run: usage, an unreadable file, no API to talk to, an unexpected answer. */
  cannotRun: 2,
  /** A followed bulk change (or one of its follow-ups) ended with failed or cancelled rows. */
  unsuccessful: 3,
} as const;
export type ExitCode = (typeof exitCodes)[keyof typeof exitCodes];

/** The exit codes as every command's `--help` lists them. */
export const exitCodesHelp = `Exit codes (the same for every command that calls the API):
  0  done; a followed bulk change (with its follow-ups) ended with every row succeeded
  1  refused by the server (4xx: not found, already finished, invalid rows listed);
     a dry run with rows that would fail
  2  usage error, unreadable file, no API to talk to (no --url/--key, no demo file), key refused,
     server unreachable or answering unexpectedly (5xx)
  3  a followed bulk change, or a follow-up it started, ended with failed or cancelled rows
`;
