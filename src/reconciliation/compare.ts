import type { LineSnapshot } from '../carriers/carrier.ts';
import type { NormalisedStatus } from '../core/statuses.ts';
import type { Device } from '../devices/devices-repository.ts';
import type { NewDrift } from './reconciliation-repository.ts';

/** A line as the carrier listed it, with its status in our vocabulary. */
export type CarrierLine = LineSnapshot & { status: NormalisedStatus };

/** An active billing service, as Rev.io lists it. */
export interface BillingService {
  serviceId: string;
  customerId: string;
  number: string | null;
  number2: string | null;
}

/** Statuses in which a line must not be billed. */
const unbillable = new Set<NormalisedStatus>(['deactivated', 'retired']);

const blank = {
  deviceId: null,
  iccid: null,
  msisdn: null,
  carrierValue: null,
  ourValue: null,
  billingValue: null,
  carrierStatus: null,
  billingCustomerId: null,
} satisfies Omit<NewDrift, 'kind' | 'field'>;

/**
 * The three-way comparison of one carrier account (ADR 0049), line by line on the ICCID: the carrier's
 * lines against the inventory's (not archived), and, where billing is connected (`billing` not null),
 * the active billing services against the carrier's status. A service belongs to a line by its
 * `number2` (the ICCID, as billing services are created), else its `number` (the MSISDN); services of
 * no line of this account are another account's business. Drifts come ordered by ICCID.
 */
export function compareLines(
  carrier: ReadonlyMap<string, CarrierLine>,
  ours: readonly Device[],
  billing: readonly BillingService[] | null,
): NewDrift[] {
  // A line with no carrier status is stock (a SIM not yet on the carrier's account): not expected there.
  const inventory = new Map(
    ours
      .filter((d) => d.iccid !== null && (d.carrierStatus !== null || carrier.has(d.iccid)))
      .map((d) => [d.iccid!, d]),
  );
  const servicesOf = billingIndex(billing ?? []);
  const iccids = [...new Set([...carrier.keys(), ...inventory.keys()])].sort();
  const drifts: NewDrift[] = [];
  for (const iccid of iccids) {
    const atCarrier = carrier.get(iccid);
    const ourLine = inventory.get(iccid);
    const msisdn = ourLine?.msisdn ?? atCarrier?.msisdn ?? null;
    const line = {
      ...blank,
      iccid,
      msisdn,
      deviceId: ourLine?.id ?? null,
      carrierStatus: atCarrier?.carrierStatus ?? null,
    };
    if (atCarrier && !ourLine) {
      drifts.push({ ...line, kind: 'missing_from_inventory', field: 'line', carrierValue: atCarrier.status });
    } else if (ourLine && !atCarrier) {
      drifts.push({ ...line, kind: 'missing_at_carrier', field: 'line', ourValue: ourLine.status });
    } else if (atCarrier && ourLine) {
      if (atCarrier.status !== ourLine.status) {
        drifts.push({
          ...line,
          kind: 'status_differs',
          field: 'status',
          carrierValue: atCarrier.status,
          ourValue: ourLine.status,
        });
      }
      const carrierPlan = atCarrier.carrierRatePlan ?? null;
      // A carrier that does not report plans in its listing says nothing about them.
      if (atCarrier.carrierRatePlan !== undefined && carrierPlan !== ourLine.carrierRatePlan) {
        drifts.push({
          ...line,
          kind: 'plan_differs',
          field: 'carrierRatePlan',
          carrierValue: carrierPlan,
          ourValue: ourLine.carrierRatePlan,
        });
      }
    }
    if (billing === null) continue;
    const services = servicesOf(iccid, msisdn);
    const carrierStatus = atCarrier?.status ?? null;
    const billed = services.map((service) => service.serviceId).join('|');
    if (services.length > 0 && (carrierStatus === null || unbillable.has(carrierStatus))) {
      drifts.push({
        ...line,
        kind: 'billed_but_deactivated',
        field: 'billingService',
        carrierValue: carrierStatus,
        ourValue: ourLine?.status ?? null,
        billingValue: billed,
        billingCustomerId: services[0].customerId,
      });
    } else if (services.length === 0 && carrierStatus === 'active' && ourLine?.billingCustomerId) {
      // Only a line our inventory assigns to a billing customer is expected in billing.
      drifts.push({
        ...line,
        kind: 'active_not_billed',
        field: 'billingService',
        carrierValue: carrierStatus,
        ourValue: ourLine.status,
        billingValue: null,
        billingCustomerId: ourLine.billingCustomerId,
      });
    }
  }
  return drifts;
}

function billingIndex(services: readonly BillingService[]) {
  const byNumber2 = Map.groupBy(
    services.filter((s) => s.number2),
    (s) => s.number2!,
  );
  const byNumber = Map.groupBy(
    services.filter((s) => s.number),
    (s) => s.number!,
  );
  return (iccid: string, msisdn: string | null): BillingService[] => {
    const found = [...(byNumber2.get(iccid) ?? []), ...(byNumber.get(iccid) ?? [])];
    if (msisdn) found.push(...(byNumber.get(msisdn) ?? []));
    return [...new Map(found.map((s) => [s.serviceId, s])).values()];
  };
}
