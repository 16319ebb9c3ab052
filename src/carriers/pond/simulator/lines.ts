import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { SimDevice } from '../../simulator-kit/device-store.ts';
import { IndexedDeviceStore } from '../../simulator-kit/indexed-device-store.ts';

export const pondLineStates = ['ENABLED', 'DISABLED'] as const;
export type PondLineState = (typeof pondLineStates)[number];
export type PondPackageStatus = 'PENDING' | 'ACTIVE' | 'TERMINATED';

/** A package (rate plan instance) on a line; times in ISO-8601 UTC. */
export interface PondPackage {
  packageId: string;
  packageTypeId: string;
  status: PondPackageStatus;
  createdAt: string;
  activatedAt?: string;
  terminatedAt?: string;
}

/** A simulated line; `GET /_sim/devices` shows it as is. `state` is the state of all its services. */
export interface PondSimLine extends SimDevice {
  imei: string | null;
  msisdn: string | null;
  state: PondLineState;
  /** Oldest first, every status. */
  packages: PondPackage[];
  /** The package type of the newest ACTIVE package, under the name API.md §5 uses for every simulator. */
  ratePlan: string | null;
}

/** Lines by ICCID, plus the index POND's `/packages/:packageId` routes need. */
export class PondLineStore extends IndexedDeviceStore<PondSimLine> {
  constructor() {
    super((line) => line.packages.map(({ packageId }) => packageId));
  }

  findPackage(packageId: string): { line: PondSimLine; found: PondPackage } | undefined {
    const line = this.byKey(packageId);
    const found = line?.packages.find((candidate) => candidate.packageId === packageId);
    return line === undefined || found === undefined ? undefined : { line, found };
  }
}

/** Every package change goes through here, so that `ratePlan` always follows the packages. */
export const withPackages = (line: PondSimLine, packages: PondPackage[]): PondSimLine => {
  const active = packages.filter((candidate) => candidate.status === 'ACTIVE');
  return { ...line, packages, ratePlan: active.at(-1)?.packageTypeId ?? null };
};

export const newPackage = (packageTypeId: string, now: string): PondPackage => ({
  packageId: randomUUID(),
  packageTypeId,
  status: 'PENDING',
  createdAt: now,
});

export const createSeedSchema = (packageTypeIds: Set<string>) =>
  z.object({
    iccid: z.string().regex(/^\d{18,22}$/, 'an ICCID is 18 to 22 digits'),
    imei: z.string().nullish(),
    msisdn: z.string().nullish(),
    state: z.enum(pondLineStates).optional(),
    packageTypeId: z
      .string()
      .refine((id) => packageTypeIds.has(id), 'unknown package type')
      .optional(),
  });
export type PondSeed = z.infer<ReturnType<typeof createSeedSchema>>;

/**
 * Upsert: a seed changes only the fields it gives and keeps the line's packages. A `packageTypeId` makes
 * sure the line has an ACTIVE package of that type (seeding twice does not add a second one).
 */
export const seededLine = (seed: PondSeed, existing: PondSimLine | undefined, now: string): PondSimLine => {
  const base: PondSimLine = existing ?? {
    iccid: seed.iccid,
    imei: null,
    msisdn: null,
    state: 'DISABLED',
    packages: [],
    ratePlan: null,
  };
  const line: PondSimLine = {
    ...base,
    imei: seed.imei === undefined ? base.imei : seed.imei,
    msisdn: seed.msisdn === undefined ? base.msisdn : seed.msisdn,
    state: seed.state ?? base.state,
  };
  const { packageTypeId } = seed;
  const hasIt = line.packages.some((p) => p.packageTypeId === packageTypeId && p.status === 'ACTIVE');
  if (packageTypeId === undefined || hasIt) return line;
  const active: PondPackage = { ...newPackage(packageTypeId, now), status: 'ACTIVE', activatedAt: now };
  return withPackages(line, [...line.packages, active]);
};

/** `GET /devices/:iccid`: all services follow the line's state. */
export const deviceView = (line: PondSimLine) => ({
  ...deviceStatusView(line),
  imei: line.imei,
  msisdn: line.msisdn,
});

export const deviceStatusView = (line: PondSimLine) => {
  const enabled = line.state === 'ENABLED';
  return { iccid: line.iccid, status: line.state, services: { data: enabled, sms: enabled } };
};

export const packageView = (iccid: string, found: PondPackage) => ({ ...found, iccid });
