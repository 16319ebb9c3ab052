import type { StepContext, WorkRow } from '../../core/flow.ts';
import { checkIccid } from '../../core/identifiers.ts';
import { callContext } from '../per-line.ts';
import type { LineFilter, ThingSpaceClient, ThingSpaceLine } from './client.ts';
import { finalStateOf } from './statuses.ts';

type Context = StepContext<ThingSpaceClient>;

/** The asynchronous actions whose result is read back from the line. */
export type AsyncAction =
  | 'activate'
  | 'restore'
  | 'suspend'
  | 'deactivate'
  | 'change_plan'
  | 'change_identifier';

/** What a line-reading row carries: the fields the read compares against. */
export type ReadableRequest = { carrierRatePlan?: string; newIccid?: string; newImei?: string };

/**
 * A line as read back for a row: whether the action shows on it. `line` is undefined when the account
 * does not have the line, or (`listed`) when a list of the lines the action would have moved did not
 * name it: it has not moved, in a state the list does not say.
 */
export interface LineRead {
  applied: boolean;
  line: ThingSpaceLine | undefined;
  listed?: boolean;
}

/** Below this many rows a read per line costs about as much as a list of the account's lines. */
const LIST_FROM_ROWS = 20;
/**
 * The pages a list may take per row it looks for: a list of an account with far more lines in the
 * target state than the chunk has rows would cost more than reading the rows' lines one by one, so it
 * stops there and the rows not found yet are read one by one (the cost is never more than 1.1 ×).
 */
const PAGES_PER_ROW = 0.1;

/**
 * Reads the line back and says whether the action shows on it: its state or plan, or the swapped
 * identifier. This is each line's own truth, whatever the request as a whole says.
 */
export async function readBack(
  row: WorkRow<ReadableRequest>,
  action: AsyncAction,
  context: Context,
): Promise<LineRead> {
  const read = (iccid: string) => context.client.getDevice(iccid, callContext(row, context));
  if (action === 'change_identifier') {
    const newIccid = row.request.newIccid && checkIccid(row.request.newIccid).value;
    const line = await read(newIccid || row.iccid!);
    const applied =
      line !== undefined &&
      (!newIccid || line.iccid === newIccid) &&
      (!row.request.newImei || line.imei === row.request.newImei);
    return { applied, line };
  }
  const line = await read(row.iccid!);
  return { applied: line !== undefined && shows(line, row, action), line };
}

const shows = (line: ThingSpaceLine, row: WorkRow<ReadableRequest>, action: AsyncAction) =>
  action === 'change_plan'
    ? line.servicePlan === row.request.carrierRatePlan
    : line.state === finalStateOf[action as keyof typeof finalStateOf];

/** The List Devices filter naming the lines an action has moved; none for a swap (it changes identifiers). */
const filterFor = (row: WorkRow<ReadableRequest>, action: AsyncAction): LineFilter | undefined => {
  if (action === 'change_identifier') return undefined;
  if (action === 'change_plan')
    return row.request.carrierRatePlan ? { servicePlan: row.request.carrierRatePlan } : undefined;
  return { currentState: finalStateOf[action] };
};

/** Each row's line, read back: from a list made beforehand where one was, else with a read of its own. */
export interface LineReads<TRequest extends ReadableRequest> {
  of(row: WorkRow<TRequest>): Promise<LineRead>;
}

/**
 * Reads back many rows' lines at once (after a crash, or polling without callbacks): rows whose action
 * moves lines into one state (or onto one plan) are found in one list of the account's lines so
 * filtered, page by page, rather than with one read each: 4,000 lines take 8 list pages instead of
 * 4,000 reads. A row the complete list does not name has not moved. Few rows, swaps, and rows a list
 * stopped short of (its page budget spent) are read one by one when asked for, as is every row of a
 * list that failed (the error is the row's, as a read of its own would have been).
 */
export async function prefetchLines<TRequest extends ReadableRequest>(
  rows: readonly WorkRow<TRequest>[],
  actionOf: (row: WorkRow<TRequest>) => AsyncAction,
  context: Context,
): Promise<LineReads<TRequest>> {
  const listed = new Map<string, LineRead | { error: unknown }>();
  const groups = new Map<string, { filter: LineFilter; rows: WorkRow<TRequest>[] }>();
  for (const row of rows) {
    const filter = filterFor(row, actionOf(row));
    if (!filter) continue;
    const key = JSON.stringify(filter);
    const group = groups.get(key) ?? { filter, rows: [] };
    group.rows.push(row);
    groups.set(key, group);
  }
  for (const group of groups.values()) {
    if (group.rows.length < LIST_FROM_ROWS) continue;
    try {
      await readByList(group.rows, group.filter, actionOf, context, listed);
    } catch (error) {
      for (const row of group.rows) if (!listed.has(row.id)) listed.set(row.id, { error });
    }
  }
  return {
    async of(row) {
      const read = listed.get(row.id);
      if (read === undefined) return readBack(row, actionOf(row), context);
      if ('error' in read) throw read.error;
      return read;
    },
  };
}

/** Lists the lines `filter` names until every row is found, the list ends or its page budget is spent. */
async function readByList<TRequest extends ReadableRequest>(
  rows: WorkRow<TRequest>[],
  filter: LineFilter,
  actionOf: (row: WorkRow<TRequest>) => AsyncAction,
  context: Context,
  reads: Map<string, LineRead | { error: unknown }>,
): Promise<void> {
  const wanted = new Map(rows.map((row) => [row.iccid!, row]));
  const budget = Math.max(1, Math.ceil(rows.length * PAGES_PER_ROW));
  let after: number | undefined;
  for (let page = 0; page < budget && wanted.size > 0; page++) {
    const list = await context.client.listDevices(after, callContext(rows, context), filter);
    for (const line of list.lines) {
      const row = wanted.get(line.iccid);
      if (!row) continue;
      wanted.delete(line.iccid);
      reads.set(row.id, { applied: shows(line, row, actionOf(row)), line });
    }
    if (list.next === undefined) {
      for (const row of wanted.values()) reads.set(row.id, { applied: false, line: undefined, listed: true });
      return;
    }
    after = list.next;
  }
}
