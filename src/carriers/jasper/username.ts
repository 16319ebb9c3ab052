import type { Flow, RowOutcome, StepContext, WorkRow } from '../../core/flow.ts';
import { callContext, perLineStep } from '../per-line.ts';
import { type CarrierUsernameRequest, carrierUsernameRequest } from '../username-request.ts';
import type { JasperClient, JasperDevice } from './client.ts';
import { mapJasperRejection } from './errors.ts';

type Row = WorkRow<CarrierUsernameRequest>;
type Context = StepContext<JasperClient>;

/** The username the line has at Control Center (an empty field is none). */
const usernameOf = (client: JasperClient, device: JasperDevice): string | null =>
  device[client.settings.usernameField] || null;

const succeeded = (row: Row, written: boolean, previous?: string | null): RowOutcome<never> => ({
  kind: 'succeeded',
  result: {
    username: row.request.username,
    usernameWritten: written,
    ...(previous !== undefined ? { previousUsername: previous } : {}),
  },
  device: { username: row.request.username },
});

/** Today's and yesterday's changes: the edit was just made, maybe across midnight UTC. */
const AUDIT_DAYS = 2;

/**
 * POD19 answers the edit with success and may refuse the username afterwards (it must name a user of
 * the account): the newest audit-trail entry for the username's field then has status `Error`, as the
 * original checked (original §5.9).
 */
async function auditRefusal(row: Row, context: Context): Promise<RowOutcome<never> | undefined> {
  const label = context.client.settings.usernameAuditLabel;
  const entries = await context.client.auditTrail(row.iccid!, AUDIT_DAYS, callContext(row, context));
  const newest = entries.find((entry) => entry.field === label);
  if (newest?.status?.toLowerCase() !== 'error') return undefined;
  return {
    kind: 'failed',
    error: {
      code: 'USERNAME_REFUSED',
      message: `Control Center did not set the username: ${row.request.username} is not a user of the account (audit trail: ${newest.field} Error)`,
    },
  };
}

/**
 * Reads the line first and writes only a username it does not have yet, so a row run again makes no
 * second write. After a crash or an unclear answer the line is read and compared, never re-sent blindly.
 */
const updateUsername = perLineStep<JasperClient, CarrierUsernameRequest, string | null>({
  send: async (row, context) => {
    const call = callContext(row, context);
    const { client } = context;
    const previous = usernameOf(client, await client.getDevice(row.iccid!, call));
    if (previous === row.request.username) return succeeded(row, false, previous);
    await client.editDevice(row.iccid!, { [client.settings.usernameField]: row.request.username }, call);
    const refused = client.settings.variant === 'pod19' ? await auditRefusal(row, context) : undefined;
    return refused ?? succeeded(row, true, previous);
  },
  read: async (row, context) =>
    usernameOf(context.client, await context.client.getDevice(row.iccid!, callContext(row, context))),
  applied: (row, username) => (username === row.request.username ? succeeded(row, true) : undefined),
  mapRejection: mapJasperRejection,
});

/** The username on the Jasper family; cost centres go to billing (`withBillingFields`). */
export const jasperUsernameChange: Flow<JasperClient, CarrierUsernameRequest, 'update_username'> = {
  requestSchema: carrierUsernameRequest,
  writesToCarrier: true,
  firstStep: 'update_username',
  steps: { update_username: updateUsername },
};
