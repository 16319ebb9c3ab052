import { z } from 'zod';
import type { SimDevice } from '../../simulator-kit/device-store.ts';
import { IndexedDeviceStore } from '../../simulator-kit/indexed-device-store.ts';

export const tealStates = ['online', 'waiting', 'stopped'] as const;
export type TealState = (typeof tealStates)[number];

/** A simulated eSIM; `GET /_sim/devices` shows it as is. */
export interface TealSimEsim extends SimDevice {
  /** Teal's own key for the line: 32 digits. */
  eid: string;
  imsi: string | null;
  msisdn: string | null;
  state: TealState;
  planUuid: string;
  /** Same value as `planUuid`, under the name API.md §5 uses for every simulator. */
  ratePlan: string;
}

/** eSIMs by ICCID (the kit's key) and by EID (Teal's). */
export class TealEsimStore extends IndexedDeviceStore<TealSimEsim> {
  constructor() {
    super((esim) => [esim.eid]);
  }

  byEid(eid: string): TealSimEsim | undefined {
    return this.byKey(eid);
  }

  /** The ICCIDs of the EIDs this simulator knows, for the call log. */
  iccidsOf(eids: string[]): string[] {
    return eids.flatMap((eid) => this.byEid(eid)?.iccid ?? []);
  }
}

/** An EID names one eSIM: a seed may not give another line's EID. */
export const createSeedSchema = (store: TealEsimStore, planUuids: Set<string>) =>
  z
    .object({
      eid: z.string().regex(/^\d{32}$/, 'an EID is 32 digits'),
      iccid: z.string().regex(/^\d{18,22}$/, 'an ICCID is 18 to 22 digits'),
      imsi: z.string().nullish(),
      msisdn: z.string().nullish(),
      state: z.enum(tealStates).optional(),
      planUuid: z
        .string()
        .refine((uuid) => planUuids.has(uuid), 'unknown plan')
        .optional(),
    })
    .superRefine((seed, context) => {
      const owner = store.byEid(seed.eid)?.iccid;
      if (owner !== undefined && owner !== seed.iccid) {
        context.addIssue({ code: 'custom', path: ['eid'], message: `EID already belongs to ICCID ${owner}` });
      }
    });
export type TealSeed = z.infer<ReturnType<typeof createSeedSchema>>;

/** Upsert: a seed changes only the fields it gives; a new eSIM waits for activation on the first plan. */
export const seededEsim = (seed: TealSeed, existing: TealSimEsim | undefined, defaultPlan: string) => {
  const planUuid = seed.planUuid ?? existing?.planUuid ?? defaultPlan;
  const esim: TealSimEsim = {
    iccid: seed.iccid,
    eid: seed.eid,
    imsi: seed.imsi === undefined ? (existing?.imsi ?? null) : seed.imsi,
    msisdn: seed.msisdn === undefined ? (existing?.msisdn ?? null) : seed.msisdn,
    state: seed.state ?? existing?.state ?? 'waiting',
    planUuid,
    ratePlan: planUuid,
  };
  return esim;
};

/** One entry of `GET /api/v1/esims`. */
export const esimView = (esim: TealSimEsim) => ({
  eid: esim.eid,
  iccid: esim.iccid,
  imsi: esim.imsi,
  msisdn: esim.msisdn,
  state: esim.state,
  planUuid: esim.planUuid,
});
