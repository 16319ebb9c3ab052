import { randomBytes } from 'node:crypto';
import type { CreateBulkChangeInput } from '../bulk-changes/bulk-changes-service.ts';
import { type InputRow, inBatches } from '../bulk-changes/csv-input.ts';
import type { IrreversibleRow } from '../bulk-changes/undo-plan.ts';
import type { DryRunReport } from '../bulk-changes/views.ts';
import type { ErrorDetail } from '../core/errors.ts';

/** A preview can be confirmed for this long; after that the file is uploaded again. */
const TTL_MS = 30 * 60 * 1000;

/** A preview's input, held in memory (its rows as an array) so that the submission is what was checked. */
export type PreviewInput = Omit<
  CreateBulkChangeInput,
  'dryRun' | 'acceptValidRows' | 'idempotencyKey' | 'rows'
> & {
  rows: InputRow[];
  /** Problems of single rows the CSV reader found (request-level ones are in `inputIssues`). */
  rowIssues: ErrorDetail[];
};

/** The preview's input as the service takes it. */
export const serviceInput = ({ rows, rowIssues, ...input }: PreviewInput) => ({
  ...input,
  rows: inBatches(rows, rowIssues),
});

/** A dry run waiting for confirmation: the exact input it checked, so the submission is what was shown. */
export interface PendingPreview {
  token: string;
  createdAt: number;
  input: PreviewInput;
  report: DryRunReport;
  accountName: string;
  /** The file's name, or that identifiers were pasted. */
  source: string;
  /** The row fields shown as the preview's columns. */
  columns: string[];
  /** An undo's preview: the rows of the bulk change it leaves alone, and why. */
  irreversible?: IrreversibleRow[];
}

/** One pending preview per session, in memory: a new upload replaces the previous one. */
export class PreviewStash {
  readonly #bySession = new Map<string, PendingPreview>();

  put(sessionId: string, preview: Omit<PendingPreview, 'token' | 'createdAt'>): PendingPreview {
    const pending = { ...preview, token: randomBytes(16).toString('hex'), createdAt: Date.now() };
    this.#bySession.set(sessionId, pending);
    return pending;
  }

  get(sessionId: string, token: string, now = Date.now()): PendingPreview | undefined {
    const pending = this.#bySession.get(sessionId);
    if (!pending || pending.token !== token) return undefined;
    if (now - pending.createdAt > TTL_MS) {
      this.drop(sessionId);
      return undefined;
    }
    return pending;
  }

  drop(sessionId: string): void {
    this.#bySession.delete(sessionId);
  }
}
