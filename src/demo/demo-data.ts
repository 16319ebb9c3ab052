import { eidWithCheckDigits, luhnCheckDigit } from '../core/identifiers.ts';

/** A demo line as the carrier has it; `state` null is a line the carrier account does not have yet. */
export interface DemoLine {
  iccid: string;
  imei: string;
  msisdn: string | null;
  state: string | null;
  ratePlan: string | null;
  communicationPlan: string | null;
  eid?: string;
}

export const demoIccid = (prefix: string, index: number) => {
  const payload = prefix + String(index).padStart(11, '0');
  return payload + luhnCheckDigit(payload);
};

const demoImei = (prefix: string, index: number) => {
  const payload = `35${String(index).padStart(6, '0')}${prefix.slice(-6)}`;
  return payload + luhnCheckDigit(payload);
};

/** Cycles of 20 lines, so every state an operator meets is there, deterministically. */
const stateAt = (index: number, spread: Array<[number, string | null]>) => {
  const slot = index % 20;
  return spread.find(([until]) => slot < until)![1];
};

export function demoJasperLines(
  account: { lines: number; prefix: string },
  plans: ReadonlyArray<{ code: string; communicationPlans: readonly string[] }>,
): DemoLine[] {
  return Array.from({ length: account.lines }, (_, index) => {
    const state = stateAt(index, [
      [10, 'ACTIVATED'],
      [14, 'ACTIVATION_READY'],
      [17, 'INVENTORY'],
      [19, 'DEACTIVATED'],
      [20, 'TEST_READY'],
    ])!;
    const plan = plans[index % plans.length];
    return {
      iccid: demoIccid(account.prefix, index),
      imei: demoImei(account.prefix, index),
      msisdn:
        state === 'ACTIVATED' || state === 'DEACTIVATED'
          ? `1${account.prefix.slice(-3)}555${String(index).padStart(4, '0')}`
          : null,
      state,
      ratePlan: plan.code,
      communicationPlan: plan.communicationPlans[0],
    };
  });
}

export function demoThingSpaceLines(account: { lines: number; prefix: string }): DemoLine[] {
  return Array.from({ length: account.lines }, (_, index) => {
    const state = stateAt(index, [
      [6, 'pre-active'],
      [12, 'active'],
      [14, 'suspend'],
      [16, 'deactive'],
      [20, null],
    ]);
    const inService = state === 'active' || state === 'suspend';
    return {
      iccid: demoIccid(account.prefix, index),
      imei: demoImei(account.prefix, index),
      msisdn: inService ? `15${demoIccid(account.prefix, index).slice(-9)}` : null,
      state,
      ratePlan: inService ? 'M2M4G1GB' : null,
      communicationPlan: null,
    };
  });
}

/** The demo's AT&T billing account (BAN), known to the Telegence simulator. */
export const DEMO_TELEGENCE_BAN = '287301234567';
const ESIM_ONLY_TAC = '35299911';

/**
 * Telegence lines: 1,000 in service (active, suspended, a few cancelled), then SIMs in stock for new
 * service (`NEW`: not on AT&T yet), every 30th of them in an eSIM-only device.
 */
export function demoTelegenceLines(account: {
  inService: number;
  inStock: number;
  prefix: string;
}): DemoLine[] {
  const plans = ['APX1G5M30', 'APX5GM30', 'APX250M30'];
  return Array.from({ length: account.inService + account.inStock }, (_, index) => {
    const iccid = demoIccid(account.prefix, index);
    if (index >= account.inService) {
      const esimOnly = index % 30 === 0;
      const payload = esimOnly ? `${ESIM_ONLY_TAC}${String(index).padStart(6, '0')}` : null;
      return {
        iccid,
        imei: payload ? payload + luhnCheckDigit(payload) : demoImei(account.prefix, index),
        msisdn: null,
        state: 'NEW',
        ratePlan: null,
        communicationPlan: null,
      };
    }
    const state = stateAt(index, [
      [16, 'A'],
      [19, 'S'],
      [20, 'C'],
    ])!;
    return {
      iccid,
      imei: demoImei(account.prefix, index),
      msisdn: `214${String(7_000_000 + index)}`,
      state,
      ratePlan: plans[index % plans.length],
      communicationPlan: null,
    };
  });
}

/** Stock SIMs the demo's AT&T refuses to activate ("reported lost"), so activations show rejections. */
export const demoRejectedSims = (lines: DemoLine[]): Record<string, string> =>
  Object.fromEntries(
    lines
      .filter((line, index) => line.state === 'NEW' && index % 40 === 13)
      .map((line) => [line.iccid, 'SIM reported lost']),
  );

/** POND lines: services enabled on most, each with one active package. */
export function demoPondLines(
  account: { lines: number; prefix: string },
  packageTypes: string[],
): DemoLine[] {
  return Array.from({ length: account.lines }, (_, index) => ({
    iccid: demoIccid(account.prefix, index),
    imei: demoImei(account.prefix, index),
    msisdn: `44${String(7_700_000_000 + index)}`,
    state: stateAt(index, [
      [15, 'ENABLED'],
      [20, 'DISABLED'],
    ])!,
    ratePlan: packageTypes[index % packageTypes.length],
    communicationPlan: null,
  }));
}

/** Teal eSIMs, keyed by EID: online, waiting for their first enable, or stopped. */
export function demoTealLines(account: { lines: number; prefix: string }, plans: string[]): DemoLine[] {
  return Array.from({ length: account.lines }, (_, index) => ({
    iccid: demoIccid(account.prefix, index),
    imei: demoImei(account.prefix, index),
    eid: eidWithCheckDigits(`890490320030${account.prefix.slice(-6)}${String(index).padStart(12, '0')}`),
    msisdn: null,
    state: stateAt(index, [
      [12, 'online'],
      [16, 'waiting'],
      [20, 'stopped'],
    ])!,
    ratePlan: plans[index % plans.length],
    communicationPlan: null,
  }));
}
