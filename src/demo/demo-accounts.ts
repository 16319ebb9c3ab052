import { randomBytes } from 'node:crypto';
import type { FastifyPluginAsync } from 'fastify';
import { createJasperSimulator, jasperRatePlans } from '../carriers/jasper/simulator/simulator.ts';
import { normaliseJasperStatus } from '../carriers/jasper/statuses.ts';
import { createPondSimulator, pondPackageTypes } from '../carriers/pond/simulator/simulator.ts';
import { normalisePondStatus } from '../carriers/pond/statuses.ts';
import { createTealSimulator, tealPlans } from '../carriers/teal/simulator/simulator.ts';
import { normaliseTealState } from '../carriers/teal/statuses.ts';
import { createTelegenceSimulator, telegenceRatePlans } from '../carriers/telegence/simulator/simulator.ts';
import { normaliseTelegenceStatus } from '../carriers/telegence/statuses.ts';
import { callbackUrlProblem } from '../carriers/thingspace/client.ts';
import {
  createThingSpaceSimulator,
  thingSpaceServicePlans,
} from '../carriers/thingspace/simulator/simulator.ts';
import { normaliseThingSpaceState } from '../carriers/thingspace/statuses.ts';
import type { CarrierName } from '../core/change-types.ts';
import type { Device } from '../devices/devices-repository.ts';
import { SIMULATORS_PREFIX } from '../http/openapi.ts';
import {
  DEMO_TELEGENCE_BAN,
  type DemoLine,
  demoJasperLines,
  demoPondLines,
  demoRejectedSims,
  demoTealLines,
  demoTelegenceLines,
  demoThingSpaceLines,
} from './demo-data.ts';

/** One demo carrier account and the simulator it talks to (DESIGN §9). */
export interface DemoAccount {
  /** Stable name: `settings.demoSimulator`, the simulator's path and its key in demo.json. */
  key: string;
  name: string;
  carrier: CarrierName;
  simulator: () => { plugin: FastifyPluginAsync };
  credentials: () => Record<string, unknown>;
  /** Settings that depend on where the demo runs are recomputed at every start. */
  settings: (where: { baseUrl: string; accountId: string }) => Record<string, unknown>;
  ratePlans: Array<{
    code: string;
    name: string;
    dataMb: number | null;
    communicationPlans: readonly string[];
  }>;
  lines: () => DemoLine[];
  normalise: (carrierStatus: string) => ReturnType<typeof normaliseJasperStatus>;
  /** The simulator's seed for an inventory line (the inventory is the truth at start). */
  seedOf: (line: Device) => Record<string, unknown> | undefined;
}

export const simulatorPath = (key: string) => `${SIMULATORS_PREFIX}${key}`;

const telegenceDemoLines = () => demoTelegenceLines({ inService: 1000, inStock: 600, prefix: '8901410' });

const jasperPlanSizes: Record<string, number | null> = {
  'IoT Basic 1MB': 1,
  'IoT 10MB': 10,
  'IoT 100MB': 100,
  'IoT 1GB': 1024,
  'IoT Unlimited': null,
};

const jasperAccount = (key: string, name: string, lines: number, prefix: string): DemoAccount => ({
  key,
  name,
  carrier: 'jasper',
  simulator: () => createJasperSimulator(),
  credentials: () => ({ username: 'demo', apiKey: 'demo-api-key' }),
  settings: () => ({ variant: key, demoSimulator: key }),
  ratePlans: jasperRatePlans.map((plan) => ({
    ...plan,
    name: plan.code,
    dataMb: jasperPlanSizes[plan.code] ?? null,
  })),
  lines: () => demoJasperLines({ lines, prefix }, jasperRatePlans),
  normalise: normaliseJasperStatus,
  seedOf: (line) => ({
    iccid: line.iccid,
    imei: line.imei,
    msisdn: line.msisdn,
    state: line.carrierStatus ?? 'INVENTORY',
    ratePlan: line.carrierRatePlan,
    communicationPlan: line.communicationPlan,
  }),
});

export const demoAccounts: DemoAccount[] = [
  jasperAccount('jasper', 'Jasper (demo)', 2000, '8901170'),
  jasperAccount('pod19', 'POD19 (demo)', 500, '8901171'),
  jasperAccount('tmobile_jasper', 'T-Mobile Jasper (demo)', 500, '8901260'),
  jasperAccount('rogers', 'Rogers (demo)', 500, '8930272'),
  {
    key: 'thingspace',
    name: 'ThingSpace (demo)',
    carrier: 'thingspace',
    // Activation takes a few seconds here; on the real network it can take minutes to hours.
    simulator: () =>
      createThingSpaceSimulator({
        activationDelayMs: 5_000,
        actionDelayMs: 1_000,
        callbackRetryDelaysMs: [5_000, 30_000],
      }),
    credentials: () => ({
      clientId: 'demo-client-id',
      clientSecret: 'demo-client-secret',
      username: 'demo-user',
      password: 'demo-password',
      callbackPassword: randomBytes(18).toString('base64url'),
    }),
    settings: ({ baseUrl, accountId }) => {
      const callbackUrl = `${baseUrl}/callbacks/thingspace/${accountId}`;
      return {
        demoSimulator: 'thingspace',
        accountName: '0000123456-00001',
        defaultServicePlan: 'M2M4G1GB',
        defaultMdnZipCode: '98801',
        // A public URL on a port ThingSpace never calls would make the account invalid: it polls then.
        ...(callbackUrlProblem(callbackUrl) === undefined ? { callbackUrl } : {}),
        callbackUsername: 'bulkchange',
        limits: { checkIntervalMs: 5_000 },
      };
    },
    ratePlans: thingSpaceServicePlans.map((plan) => ({
      code: plan.code,
      name: plan.name,
      dataMb: plan.sizeKb ? Math.round(plan.sizeKb / 1024) : null,
      communicationPlans: [],
    })),
    lines: () => demoThingSpaceLines({ lines: 5000, prefix: '8914800' }),
    normalise: normaliseThingSpaceState,
    // Lines not on the account yet exist only in the inventory.
    seedOf: (line) =>
      line.carrierStatus
        ? {
            iccid: line.iccid,
            imei: line.imei,
            msisdn: line.msisdn,
            state: line.carrierStatus,
            servicePlan: line.carrierRatePlan,
          }
        : undefined,
  },
  {
    key: 'telegence',
    name: 'AT&T Telegence (demo)',
    carrier: 'telegence',
    // Each activation stage takes 2 s here; AT&T takes minutes.
    simulator: () =>
      createTelegenceSimulator({
        faults: {
          activationStepMs: 2_000,
          ipProvisionMs: 2_000,
          rejectIccids: demoRejectedSims(telegenceDemoLines()),
        },
      }),
    credentials: () => ({ appId: 'demo-app', appSecret: 'demo-app-secret' }),
    settings: () => ({
      demoSimulator: 'telegence',
      esimOnlyTacs: ['35299911'],
      limits: { checkIntervalMs: 3_000 },
    }),
    ratePlans: telegenceRatePlans.map((plan) => ({ ...plan, communicationPlans: [] })),
    lines: () => telegenceDemoLines(),
    normalise: normaliseTelegenceStatus,
    // SIMs in stock are not on AT&T yet.
    seedOf: (line) =>
      line.carrierStatus && line.carrierStatus !== 'NEW' && line.msisdn
        ? {
            iccid: line.iccid,
            imei: line.imei,
            msisdn: line.msisdn,
            state: line.carrierStatus,
            ratePlan: line.carrierRatePlan,
            ban: DEMO_TELEGENCE_BAN,
            ...(line.ipAddress ? { ipAddress: line.ipAddress } : {}),
            ...(line.username ? { contactName: line.username } : {}),
          }
        : undefined,
  },
  {
    key: 'pond',
    name: 'POND (demo)',
    carrier: 'pond',
    simulator: () => createPondSimulator(),
    credentials: () => ({ apiKey: 'demo-pond-key' }),
    settings: () => ({ demoSimulator: 'pond', distributorId: 'demo-distributor' }),
    ratePlans: pondPackageTypes.map((type) => ({
      code: type.packageTypeId,
      name: type.name,
      dataMb: type.dataMb,
      communicationPlans: [],
    })),
    lines: () =>
      demoPondLines(
        { lines: 500, prefix: '8944500' },
        pondPackageTypes.map((type) => type.packageTypeId),
      ),
    normalise: normalisePondStatus,
    seedOf: (line) => ({
      iccid: line.iccid,
      imei: line.imei,
      msisdn: line.msisdn,
      state: line.carrierStatus ?? 'DISABLED',
      ...(line.carrierRatePlan ? { packageTypeId: line.carrierRatePlan } : {}),
    }),
  },
  {
    key: 'teal',
    name: 'Teal (demo)',
    carrier: 'teal',
    // Operations finish after 2 s here.
    simulator: () => createTealSimulator({ faults: { operationMs: 2_000 } }),
    credentials: () => ({ apiKey: 'demo-teal-key', apiSecret: 'demo-teal-secret' }),
    settings: () => ({ demoSimulator: 'teal', limits: { checkIntervalMs: 2_000 } }),
    ratePlans: tealPlans.map((plan) => ({
      code: plan.uuid,
      name: plan.name,
      dataMb: plan.dataMb,
      communicationPlans: [],
    })),
    lines: () =>
      demoTealLines(
        { lines: 300, prefix: '8988247' },
        tealPlans.map((plan) => plan.uuid),
      ),
    normalise: normaliseTealState,
    seedOf: (line) =>
      line.eid
        ? {
            eid: line.eid,
            iccid: line.iccid,
            state: line.carrierStatus ?? 'waiting',
            ...(line.carrierRatePlan ? { planUuid: line.carrierRatePlan } : {}),
          }
        : undefined,
  },
];
