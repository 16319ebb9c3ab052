import { luhnCheckDigit } from '../bulk-changes/identifiers.ts';
import type { JasperStatus } from '../carriers/jasper/statuses.ts';

/** The demo's Jasper-family accounts: one per variant, each wired to its own in-process simulator. */
export const demoJasperAccounts = [
  { key: 'jasper', name: 'Jasper (demo)', variant: 'jasper', lines: 2000, prefix: '8901170' },
  { key: 'pod19', name: 'POD19 (demo)', variant: 'pod19', lines: 500, prefix: '8901171' },
  {
    key: 'tmobile_jasper',
    name: 'T-Mobile Jasper (demo)',
    variant: 'tmobile_jasper',
    lines: 500,
    prefix: '8901260',
  },
  { key: 'rogers', name: 'Rogers (demo)', variant: 'rogers', lines: 500, prefix: '8930272' },
] as const;

export const demoJasperCredentials = { username: 'demo', apiKey: 'demo-api-key' };

export interface DemoJasperLine {
  iccid: string;
  imei: string;
  msisdn: string | null;
  state: JasperStatus;
  ratePlan: string;
  communicationPlan: string;
}

/** Half the lines active, the rest spread over the states an operator meets. Deterministic by index. */
function stateFor(index: number): JasperStatus {
  const slot = index % 20;
  if (slot < 10) return 'ACTIVATED';
  if (slot < 14) return 'ACTIVATION_READY';
  if (slot < 17) return 'INVENTORY';
  if (slot < 19) return 'DEACTIVATED';
  return 'TEST_READY';
}

export const demoIccid = (prefix: string, index: number) => {
  const payload = prefix + String(index).padStart(11, '0');
  return payload + luhnCheckDigit(payload);
};

export function demoJasperLines(
  account: (typeof demoJasperAccounts)[number],
  plans: ReadonlyArray<{ code: string; communicationPlans: readonly string[] }>,
): DemoJasperLine[] {
  return Array.from({ length: account.lines }, (_, index) => {
    const state = stateFor(index);
    const plan = plans[index % plans.length];
    const imeiPayload = `35${String(index).padStart(6, '0')}${account.prefix.slice(-6)}`;
    return {
      iccid: demoIccid(account.prefix, index),
      imei: imeiPayload + luhnCheckDigit(imeiPayload),
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
