/** What every carrier's simulated line has; each simulator adds its own fields. */
export interface SimDevice {
  iccid: string;
  imei?: string | null;
  msisdn?: string | null;
  eid?: string | null;
  /** The carrier's own status value. */
  state: string;
  ratePlan?: string | null;
  ipAddress?: string | null;
}

/**
 * In-memory line state keyed by ICCID. Mutating calls are not counted here: they are derived from the
 * call log (`calls.count({iccid, action, status})`), which sees refused and failed calls as well.
 */
export class DeviceStore<D extends SimDevice> {
  readonly #lines = new Map<string, D>();

  get(iccid: string): D | undefined {
    return this.#lines.get(iccid);
  }

  /** Returns whether the line is new. */
  put(device: D): boolean {
    const created = !this.#lines.has(device.iccid);
    this.#lines.set(device.iccid, device);
    return created;
  }

  /** Returns whether there was such a line (e.g. a carrier moving a line to a new ICCID). */
  delete(iccid: string): boolean {
    return this.#lines.delete(iccid);
  }

  list(): D[] {
    return [...this.#lines.values()];
  }

  get size(): number {
    return this.#lines.size;
  }

  clear(): void {
    this.#lines.clear();
  }
}
