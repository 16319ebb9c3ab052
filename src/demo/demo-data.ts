import { luhnCheckDigit } from '../bulk-changes/identifiers.ts';

/** A demo line as the carrier has it; `state` null is a line the carrier account does not have yet. */
export interface DemoLine {
  iccid: string;
  imei: string;
  msisdn: string | null;
  state: string | null;
  ratePlan: string | null;
  communicationPlan: string | null;
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
