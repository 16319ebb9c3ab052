import type { NormalisedStatus } from '../../core/statuses.ts';

/** Cisco Control Center SIM status values (carrier-apis §2.3). */
export const jasperStatuses = [
  'ACTIVATED',
  'ACTIVATION_READY',
  'DEACTIVATED',
  'INVENTORY',
  'RETIRED',
  'TEST_READY',
  'PURGED',
  'REPLACED',
] as const;
export type JasperStatus = (typeof jasperStatuses)[number];

/** The normalised targets a Jasper-family line can be moved to, and the value sent for each. */
export const jasperTargets = {
  active: 'ACTIVATED',
  deactivated: 'DEACTIVATED',
  inventory: 'INVENTORY',
  activation_ready: 'ACTIVATION_READY',
  test_ready: 'TEST_READY',
  retired: 'RETIRED',
} as const satisfies Partial<Record<NormalisedStatus, JasperStatus>>;
export type JasperTarget = keyof typeof jasperTargets;

const normalised: Record<JasperStatus, NormalisedStatus> = {
  ACTIVATED: 'active',
  ACTIVATION_READY: 'activation_ready',
  DEACTIVATED: 'deactivated',
  INVENTORY: 'inventory',
  RETIRED: 'retired',
  TEST_READY: 'test_ready',
  PURGED: 'retired',
  REPLACED: 'retired',
};

export const normaliseJasperStatus = (status: string): NormalisedStatus =>
  normalised[status as JasperStatus] ?? 'unknown';

/**
 * The transitions a line may make. Control Center lets each operator configure these; this is the
 * common default (docs/carriers/jasper.md), enforced by the simulator and checked at intake.
 */
export const jasperTransitions: Record<JasperStatus, readonly JasperStatus[]> = {
  INVENTORY: ['ACTIVATION_READY', 'TEST_READY', 'ACTIVATED', 'DEACTIVATED', 'RETIRED'],
  TEST_READY: ['ACTIVATION_READY', 'ACTIVATED', 'INVENTORY', 'DEACTIVATED', 'RETIRED'],
  ACTIVATION_READY: ['ACTIVATED', 'TEST_READY', 'INVENTORY', 'DEACTIVATED', 'RETIRED'],
  ACTIVATED: ['DEACTIVATED'],
  DEACTIVATED: ['ACTIVATED', 'RETIRED'],
  RETIRED: [],
  PURGED: [],
  REPLACED: [],
};

/** Setting the status a line already has is accepted: it changes nothing. */
export const canMoveJasperLine = (from: string, to: JasperStatus): boolean =>
  from === to || (jasperTransitions[from as JasperStatus]?.includes(to) ?? false);
