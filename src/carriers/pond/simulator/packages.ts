import type { PondPackage, PondPackageStatus } from './lines.ts';

/**
 * What a package may become. POND does not stop a line from holding several ACTIVE packages: keeping one
 * is the client's rate plan change flow's job (add → activate → terminate the old ones).
 */
export const pondPackageTransitions: Record<PondPackageStatus, readonly PondPackageStatus[]> = {
  PENDING: ['ACTIVE', 'TERMINATED'],
  ACTIVE: ['TERMINATED'],
  TERMINATED: [],
};

/**
 * The package with its new status, the same package when it already has it (a retry is a no-op), or
 * undefined when the move is refused (TERMINATED is final).
 */
export const movePackage = (
  current: PondPackage,
  status: PondPackageStatus,
  now: string,
): PondPackage | undefined => {
  if (current.status === status) return current;
  if (!pondPackageTransitions[current.status].includes(status)) return undefined;
  return status === 'ACTIVE'
    ? { ...current, status, activatedAt: now }
    : { ...current, status, terminatedAt: now };
};
